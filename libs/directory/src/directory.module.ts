import { DynamicModule, Global, Module } from '@nestjs/common';

import { ApiKeysModule } from '@signet/api-keys';
import { ISSUANCE_GATE, TokensModule } from '@signet/tokens';

import { Deprovisioner } from './deprovisioner';
import { DirectoryIssuanceGate } from './directory-issuance-gate';
import { DIRECTORY_REPOSITORY, TypeOrmDirectoryRepository } from './directory.repository';
import { ScimTokenGuard } from './guards/scim-token.guard';
import { DirectoryController } from './http/directory.controller';
import { ScimController } from './http/scim.controller';
import { LdapSyncScheduler } from './ldap/ldap-sync.scheduler';
import { LDAP_REPOSITORY, TypeOrmLdapRepository } from './ldap/ldap.repository';
import { DIRECTORY_OPTIONS, DirectoryOptions } from './options';
import { ScimBodyParser } from './scim-body-parser';
import { ConfigureLdapUseCase } from './usecases/configure-ldap/configure-ldap.usecase';
import { LdapBindUseCase } from './usecases/ldap-bind/ldap-bind.usecase';
import { LdapStatusUseCase } from './usecases/ldap-status/ldap-status.usecase';
import { ListGroupsUseCase } from './usecases/list-groups/list-groups.usecase';
import { RotateScimTokenUseCase } from './usecases/rotate-scim-token/rotate-scim-token.usecase';
import { ScimGroupsUseCase } from './usecases/scim-groups/scim-groups.usecase';
import { ScimUsersUseCase } from './usecases/scim-users/scim-users.usecase';
import { SyncLdapUseCase } from './usecases/sync-ldap/sync-ldap.usecase';
import { SetGroupPermissionsUseCase } from './usecases/set-group-permissions/set-group-permissions.usecase';
import { UpdateDirectorySettingsUseCase } from './usecases/update-settings/update-settings.usecase';

/**
 * Directory sync: the SCIM 2.0 server (/scim/v2), the directory admin API
 * (/v1/directory), deprovisioning through the token feature's user
 * revocation. Wiring only; register with {@link DirectoryModule.forRoot},
 * next to TokensModule.forRoot (it revokes through TokensModule).
 */
@Module({
  imports: [ApiKeysModule, TokensModule],
  controllers: [ScimController, DirectoryController],
  providers: [
    { provide: DIRECTORY_REPOSITORY, useClass: TypeOrmDirectoryRepository },
    { provide: LDAP_REPOSITORY, useClass: TypeOrmLdapRepository },
    Deprovisioner,
    DirectoryIssuanceGate,
    ScimTokenGuard,
    ScimBodyParser,
    ScimUsersUseCase,
    ScimGroupsUseCase,
    RotateScimTokenUseCase,
    UpdateDirectorySettingsUseCase,
    SetGroupPermissionsUseCase,
    ConfigureLdapUseCase,
    SyncLdapUseCase,
    LdapStatusUseCase,
    LdapBindUseCase,
    LdapSyncScheduler,
    ListGroupsUseCase,
  ],
  exports: [DirectoryIssuanceGate, LdapBindUseCase],
})
export class DirectoryModule {
  /**
   * The options, and the issuance gate POST /v1/tokens consults (ISSUANCE_GATE),
   * live in a global module around the one DirectoryModule.
   */
  static forRoot(options: DirectoryOptions): DynamicModule {
    return {
      module: DirectoryOptionsModule,
      imports: [DirectoryModule],
      providers: [
        { provide: DIRECTORY_OPTIONS, useValue: options },
        { provide: ISSUANCE_GATE, useExisting: DirectoryIssuanceGate },
      ],
      exports: [DIRECTORY_OPTIONS, ISSUANCE_GATE, DirectoryModule],
    };
  }

  /**
   * Only the issuance gate, for a process that issues tokens without serving
   * the directory (the token service beside a separate directory-sync): its
   * POST /v1/tokens applies the directory all the same.
   */
  static gateOnly(): DynamicModule {
    return {
      module: DirectoryGateModule,
      providers: [
        { provide: DIRECTORY_REPOSITORY, useClass: TypeOrmDirectoryRepository },
        DirectoryIssuanceGate,
        { provide: ISSUANCE_GATE, useExisting: DirectoryIssuanceGate },
      ],
      exports: [ISSUANCE_GATE],
    };
  }
}

@Global()
@Module({})
class DirectoryOptionsModule {}

@Global()
@Module({})
class DirectoryGateModule {}
