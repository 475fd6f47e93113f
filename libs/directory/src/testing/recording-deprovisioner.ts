import { Deprovisioner } from '../deprovisioner';

/** Records whom the use cases deprovision, instead of revoking through the token feature. */
export class RecordingDeprovisioner extends Deprovisioner {
  readonly revoked: string[][] = [];

  constructor() {
    super(undefined as never, undefined as never, undefined as never, undefined as never);
  }

  override async revoke(_orgId: string, userNames: readonly string[]): Promise<void> {
    this.revoked.push([...userNames]);
  }
}
