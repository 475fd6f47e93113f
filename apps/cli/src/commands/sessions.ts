import type { Command } from 'commander';

import { context, pages, query, seg } from './context';

interface LiveSession {
  client_id: string;
  user_id: string;
  username: string;
  credential_kind: string;
  credential_id: string;
  edge_id: string;
  address: string;
  transport: string;
  protocol_version: number;
  connected_at: string;
}

/** sessions list | kick: live MQTT connections on every edge. */
export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('live MQTT sessions on every edge (list, kick)');
  sessions
    .command('list')
    .description('list live MQTT sessions, in client-id order')
    .option('--user <id>', 'only the sessions of this user (or API key service name)')
    .option('--client-id <id>', 'only the session of this client id')
    .option('--all', 'every page, not only the first')
    .action(async (opts: { user?: string; clientId?: string; all?: boolean }, command: Command) => {
      const { session, out } = context(command);
      const list = await pages<LiveSession>(session, (cursor) => `/v1/sessions${query({ user_id: opts.user, client_id: opts.clientId, cursor })}`, 'sessions', opts.all === true);
      out.table(
        { sessions: list },
        ['client id', 'user', 'credential', 'edge', 'address', 'transport', 'mqtt', 'since'],
        list.map((s) => [s.client_id, s.user_id, `${s.credential_kind} ${s.credential_id}`, s.edge_id, s.address, s.transport, s.protocol_version === 5 ? '5.0' : '3.1.1', s.connected_at]),
      );
    });
  sessions
    .command('kick <client_id>')
    .description('close a live session on the edge that holds it (MQTT 5: DISCONNECT 0x98); it may reconnect: revoke its credential to keep it out')
    .action(async (clientId: string, _opts: unknown, command: Command) => {
      const { session, out } = context(command);
      await session.api('DELETE', `/v1/sessions/${seg(clientId)}`);
      out.result({ client_id: clientId, kicked: true }, () => `Kicked ${clientId}`);
    });
}
