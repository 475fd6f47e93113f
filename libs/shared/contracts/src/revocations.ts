import * as grpc from '@grpc/grpc-js';

import { GrpcServiceRegistration, loadService, unaryCall } from './grpc';
import { REVOCATIONS_PROTO, REVOCATIONS_SERVICE } from './proto';

/** One committed revocation (RevocationEvent of @signet/revocation, structurally). */
export interface RevocationRecordMessage {
  seq: number;
  credentialIds: string[];
  until: number;
  reason: string;
  at: number;
}

/** The most revocations one ListRevocations answer carries. */
export const MAX_REVOCATIONS_PAGE = 1000;

/** int64 fields arrive as strings (the loader's `longs: String`). */
interface RevocationWire {
  seq: string | number;
  credential_ids: string[];
  until: string | number;
  reason: string;
  at: string | number;
}

function revocationsService() {
  const loaded = loadService(REVOCATIONS_PROTO, REVOCATIONS_SERVICE);
  return { service: loaded.service, list: loaded.method('ListRevocations') };
}

/** Token service side: `list(afterSeq, limit)` reads the revocation log (RevocationStore.listSince). */
export function revocationsRegistration(list: (afterSeq: number, limit: number) => Promise<RevocationRecordMessage[]>): GrpcServiceRegistration {
  const handler = (
    call: grpc.ServerUnaryCall<{ after_seq?: string; limit?: number }, object>,
    callback: grpc.sendUnaryData<{ revocations: RevocationWire[] }>,
  ): void => {
    const afterSeq = Number(call.request.after_seq ?? 0);
    const asked = Number(call.request.limit ?? 0);
    const limit = asked > 0 ? Math.min(asked, MAX_REVOCATIONS_PAGE) : MAX_REVOCATIONS_PAGE;
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'after_seq must be a non-negative integer' });
      return;
    }
    list(afterSeq, limit).then(
      (records) =>
        callback(null, {
          revocations: records.map((r) => ({ seq: String(r.seq), credential_ids: r.credentialIds, until: String(r.until), reason: r.reason, at: String(r.at) })),
        }),
      (err: unknown) =>
        callback({ code: grpc.status.UNAVAILABLE, details: `listing revocations failed: ${err instanceof Error ? err.message : String(err)}` }),
    );
  };
  return { service: revocationsService().service, implementation: { ListRevocations: handler } };
}

export interface RevocationsClient {
  /** Rejects with the grpc-js ServiceError on failure or after `timeoutMs`. */
  listRevocations(afterSeq: number, limit?: number): Promise<RevocationRecordMessage[]>;
  close(): void;
}

/** Edge side; `address` is the token service's gRPC `host:port`. */
export function createRevocationsClient(address: string, options: { credentials?: grpc.ChannelCredentials; timeoutMs?: number } = {}): RevocationsClient {
  const { list } = revocationsService();
  const client = new grpc.Client(address, options.credentials ?? grpc.credentials.createInsecure());
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    listRevocations: async (afterSeq, limit = MAX_REVOCATIONS_PAGE) =>
      fromResponse(await unaryCall(client, list, { after_seq: String(afterSeq), limit }, timeoutMs)),
    close: () => client.close(),
  };
}

function fromResponse(response: object | undefined): RevocationRecordMessage[] {
  const raw: unknown = response && 'revocations' in response ? response.revocations : undefined;
  if (!Array.isArray(raw)) return [];
  const records: RevocationRecordMessage[] = [];
  for (const item of raw as Partial<RevocationWire>[]) {
    const record = {
      seq: Number(item.seq),
      credentialIds: Array.isArray(item.credential_ids) ? item.credential_ids.filter((id) => typeof id === 'string' && id !== '') : [],
      until: Number(item.until),
      reason: typeof item.reason === 'string' ? item.reason : '',
      at: Number(item.at),
    };
    // The edge validates events again; a record without ids or numbers is useless, skip it.
    if (Number.isSafeInteger(record.seq) && record.credentialIds.length > 0 && Number.isFinite(record.until) && Number.isFinite(record.at)) records.push(record);
  }
  return records;
}
