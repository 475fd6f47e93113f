import { DynamicModule, Module } from '@nestjs/common';

import { DASHBOARD_SESSION_REPOSITORY, TypeOrmDashboardSessionRepository } from './dashboard-session.repository';
import { DashboardServer } from './dashboard.server';
import { DASHBOARD_OPTIONS, DashboardOptions } from './options';

/**
 * The web dashboard at /dashboard. Wiring only; compose it where the authorization server runs
 * (`AccountsModule.forRoot` in the same app: it signs in through that process's /oidc).
 * Needs the global providers DATA_SOURCE and LOGGER.
 */
@Module({})
export class DashboardModule {
  static forRoot(options: DashboardOptions): DynamicModule {
    return {
      module: DashboardModule,
      providers: [
        { provide: DASHBOARD_OPTIONS, useValue: options },
        { provide: DASHBOARD_SESSION_REPOSITORY, useClass: TypeOrmDashboardSessionRepository },
        DashboardServer,
      ],
    };
  }
}
