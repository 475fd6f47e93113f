import type { IdpProviderKind } from '@signet/persistence';

import type { ProviderInput } from '../../providers/settings';

export interface CreateProviderCommand {
  orgId: string;
  kind: IdpProviderKind;
  /** Default: the kind. */
  name?: string;
  /** Default: true. */
  enabled?: boolean;
  settings: ProviderInput;
}
