import type { SignetConfig } from '@signet/config';
import { HealthRegistry, ReadinessResult } from '@signet/http';
import type { RevocationBus } from '@signet/revocation';

import { ProcessContext, processContext } from './context';
import type { EdgeHandle } from './edge';
import type { Bootstrap, ServiceHandle } from './service';

export interface ProcessPorts {
  http?: number;
  mqtt?: number;
  ws?: number;
  mqtts?: number;
  wss?: number;
  grpc?: number | null;
}

/** What /readyz answers: ready when every check is ok. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessResult>;
}

/** A running Signet process, whatever its composition. */
export interface SignetProcess {
  /** Lines for people: addresses, and the bootstrap key on a first start. */
  banner: string[];
  ports: ProcessPorts;
  /** The HTTP (and gRPC) service of feature modules, when the process serves the API. */
  service?: ServiceHandle;
  /** The MQTT edge, when the process runs one. */
  edgeHandle?: EdgeHandle;
  bus: RevocationBus;
  /** The checks behind /readyz; a process without any is ready once started. Defaults to the service's. */
  readiness?: () => Promise<Readiness>;
  close(): Promise<void>;
}

const display = (host: string) => (host === '0.0.0.0' || host === '::' ? 'localhost' : host);

/** The addresses a process listens on, and the bootstrap key when one was just created. */
export function bannerFor(config: SignetConfig, p: ProcessPorts, bootstrap: Bootstrap | null): string[] {
  const host = display(config.host);
  const lines: string[] = [];
  if (p.http !== undefined) lines.push(`  HTTP API   http://${host}:${p.http}  (OpenAPI at /docs)`);
  if (p.mqtt !== undefined) lines.push(`  MQTT       mqtt://${host}:${p.mqtt}`);
  if (p.ws !== undefined) lines.push(`  WebSocket  ws://${host}:${p.ws}${config.wsPath}`);
  if (p.mqtts !== undefined) lines.push(`  MQTT/TLS   mqtts://${host}:${p.mqtts}  (certificate reloaded when its files change)`);
  if (p.wss !== undefined) lines.push(`  WSS        wss://${host}:${p.wss}${config.wsPath}`);
  if (p.grpc) lines.push(`  gRPC       ${host}:${p.grpc}  (internal)`);
  if (bootstrap) {
    lines.push('', `Bootstrap API key for ${bootstrap.orgId} (shown once; store it now):`, bootstrap.apiKey, '');
  }
  return lines;
}

/** Registers how to close something just opened; closing runs last first. */
export type OnClose = (step: () => Promise<void>) => void;
export type Started = Omit<SignetProcess, 'close'>;

/**
 * Starts a process: `body` opens resources in order and registers how to
 * close each; `close()` undoes them last first, carrying on past a failing
 * step, and a start that fails half-way undoes what it had opened.
 */
export async function runProcess(
  name: string,
  config: SignetConfig,
  body: (ctx: ProcessContext, onClose: OnClose) => Promise<Started>,
): Promise<SignetProcess> {
  const ctx = processContext(name, config);
  const steps: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        ctx.logger.error({ err }, 'error while stopping');
      }
    }
  };
  try {
    const started = await body(ctx, (step) => steps.push(step));
    const service = started.service;
    const readiness = started.readiness ?? (service ? () => service.app.get(HealthRegistry).run() : undefined);
    return { ...started, readiness, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
