import type { ProviderInput } from '../../providers/settings';

export interface UpdateProviderCommand {
  orgId: string;
  id: string;
  name?: string;
  /** false: every exchange with this provider is refused. */
  enabled?: boolean;
  /** The fields given replace the stored ones; `null` removes an optional one. */
  settings: ProviderInput;
}
