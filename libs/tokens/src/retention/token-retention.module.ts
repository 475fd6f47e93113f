import { Module } from '@nestjs/common';

import { TokenRetentionJob } from './token-retention.job';
import { TOKEN_RETENTION_REPOSITORY, TypeOrmTokenRetentionRepository } from './token-retention.repository';

/**
 * The retention job (TokenRetentionJob). Imported by the processes that own
 * the token data (token service, all-in-one), not by every process that
 * imports TokensModule. Needs TokensModule.forRoot in the same app (its
 * options) and the global providers DATA_SOURCE and LOGGER (METRICS optional).
 */
@Module({
  providers: [{ provide: TOKEN_RETENTION_REPOSITORY, useClass: TypeOrmTokenRetentionRepository }, TokenRetentionJob],
  exports: [TokenRetentionJob],
})
export class TokenRetentionModule {}
