import { completeEvent } from '../../audit-event';
import { InMemoryAuditRepository } from '../../testing';
import { ListAuditUseCase } from './list-audit.usecase';

const ORG = 'org_aaaaaaaaaaaa';

describe('ListAuditUseCase', () => {
  const repository = new InMemoryAuditRepository();
  const useCase = new ListAuditUseCase(repository);
  beforeAll(() => {
    for (let i = 0; i < 5; i++) {
      repository.events.push(completeEvent({ type: 'admin', orgId: ORG, actor: { kind: 'api_key', id: 'key_1' }, action: 'keys.create', outcome: 'success', at: new Date(1_800_000_000_000 + i * 1000) }));
    }
    repository.events.push(completeEvent({ type: 'admin', orgId: 'org_bbbbbbbbbbbb', actor: { kind: 'api_key', id: 'key_2' }, action: 'keys.create', outcome: 'success' }));
  });

  it('pages one org newest first with a cursor', async () => {
    const first = await useCase.execute({ reader: { orgId: ORG, role: null }, limit: 3 });
    const second = await useCase.execute({ reader: { orgId: ORG, role: 'admin' }, limit: 3, cursor: first.nextCursor! });
    expect(first.events).toHaveLength(3);
    expect(second.events).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    expect([...first.events, ...second.events].map((e) => e.at.getTime())).toEqual([4, 3, 2, 1, 0].map((i) => 1_800_000_000_000 + i * 1000));
  });

  it('refuses viewers, a cursor it did not make and an empty time range', async () => {
    await expect(useCase.execute({ reader: { orgId: ORG, role: 'viewer' } })).rejects.toMatchObject({ status: 403, code: 'insufficient_scope' });
    await expect(useCase.execute({ reader: { orgId: ORG, role: null }, cursor: 'nope' })).rejects.toMatchObject({ status: 400, code: 'invalid_cursor' });
    await expect(useCase.execute({ reader: { orgId: ORG, role: null }, since: '2027-01-02T00:00:00Z', until: '2027-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'invalid_time_range' });
  });
});
