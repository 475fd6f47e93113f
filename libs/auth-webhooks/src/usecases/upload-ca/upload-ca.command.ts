export interface UploadCaCommand {
  orgId: string;
  name: string;
  pem: string;
  /** False: only certificates registered with the CA connect. */
  allowAny: boolean;
}
