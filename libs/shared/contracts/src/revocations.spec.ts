import * as grpc from '@grpc/grpc-js';

import { startGrpcServer, type GrpcServerHandle } from './grpc';
import { createRevocationsClient, MAX_REVOCATIONS_PAGE, revocationsRegistration, type RevocationRecordMessage, type RevocationsClient } from './revocations';

const T0 = 1_800_000_000_000;
const record = (seq: number): RevocationRecordMessage => ({ seq, credentialIds: [`tok_${seq}`, `key_${seq}`], until: T0 + 3_600_000, reason: 'token_revoked', at: T0 + seq });

describe('Revocations gRPC contract', () => {
  let server: GrpcServerHandle;
  let client: RevocationsClient;
  const asked: [number, number][] = [];
  let list: (afterSeq: number, limit: number) => Promise<RevocationRecordMessage[]>;

  beforeAll(async () => {
    server = await startGrpcServer({ port: 0, host: '127.0.0.1', services: [revocationsRegistration((after, limit) => list(after, limit))] });
    client = createRevocationsClient(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });
  beforeEach(() => (asked.length = 0));

  it('carries seqs, ids and ms timestamps beyond 32 bits both ways', async () => {
    const seq = 2 ** 40;
    list = async (after, limit) => {
      asked.push([after, limit]);
      return [record(seq + 1), record(seq + 2)];
    };
    expect(await client.listRevocations(seq, 50)).toEqual([record(seq + 1), record(seq + 2)]);
    expect(asked).toEqual([[seq, 50]]);
  });

  it('caps the page the server reads', async () => {
    list = async (after, limit) => {
      asked.push([after, limit]);
      return [];
    };
    await client.listRevocations(0, 1_000_000);
    await client.listRevocations(0, 0);
    expect(asked).toEqual([
      [0, MAX_REVOCATIONS_PAGE],
      [0, MAX_REVOCATIONS_PAGE],
    ]);
  });

  it('answers UNAVAILABLE when the log cannot be read', async () => {
    list = async () => {
      throw new Error('database unavailable');
    };
    await expect(client.listRevocations(0)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});
