export interface SetChainCommand {
  orgId: string;
  /** Null: back to the default chain. */
  steps: string[] | null;
}
