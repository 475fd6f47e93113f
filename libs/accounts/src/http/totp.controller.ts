import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import type { SessionPrincipal } from '@signet/api-keys';

import { SessionGuard } from '../guards/session.strategy';
import { ConfirmTotpUseCase } from '../usecases/totp/confirm-totp.usecase';
import { DisableTotpUseCase } from '../usecases/totp/disable-totp.usecase';
import { EnrolTotpUseCase } from '../usecases/totp/enrol-totp.usecase';
import { GetTotpUseCase } from '../usecases/totp/get-totp.usecase';
import { CurrentSession } from './accounts.controller';
import { DisableTotpDto, TotpCodeDto, TotpConfirmedDto, TotpEnrolmentDto, TotpStatusDto } from './dto';

/** The signed-in person's own two-factor sign-in: any role, viewers too (it is their account); never an API key. */
@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/accounts/me/totp')
@UseGuards(SessionGuard)
export class TotpController {
  constructor(
    private readonly enrol: EnrolTotpUseCase,
    private readonly confirm: ConfirmTotpUseCase,
    private readonly disable: DisableTotpUseCase,
    private readonly status: GetTotpUseCase,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Whether two-factor sign-in (TOTP) is on, and how many recovery codes are left' })
  @ApiOkResponse({ type: TotpStatusDto })
  async get(@CurrentSession() session: SessionPrincipal): Promise<TotpStatusDto> {
    const { status, recoveryCodesLeft } = await this.status.execute({ accountId: session.accountId });
    return { status, recovery_codes_left: recoveryCodesLeft };
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Start enrolling TOTP: a new secret (shown once), pending until confirmed with a first code' })
  @ApiCreatedResponse({ type: TotpEnrolmentDto })
  async start(@CurrentSession() session: SessionPrincipal): Promise<TotpEnrolmentDto> {
    const started = await this.enrol.execute({ accountId: session.accountId, username: session.username });
    return { secret: started.secret, otpauth_uri: started.otpauthUri, status: 'pending' };
  }

  @Post('confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn TOTP on with a first valid code; answers ten recovery codes, shown once' })
  @ApiOkResponse({ type: TotpConfirmedDto })
  async confirmCode(@CurrentSession() session: SessionPrincipal, @Body() body: TotpCodeDto): Promise<TotpConfirmedDto> {
    const { recoveryCodes } = await this.confirm.execute({ accountId: session.accountId, code: body.code });
    return { status: 'on', recovery_codes: recoveryCodes };
  }

  @Post('disable')
  @HttpCode(204)
  @ApiOperation({ summary: 'Turn TOTP off: needs a current code, a recovery code or the password' })
  @ApiNoContentResponse()
  async off(@CurrentSession() session: SessionPrincipal, @Body() body: DisableTotpDto): Promise<void> {
    await this.disable.execute({ accountId: session.accountId, code: body.code, recoveryCode: body.recovery_code, password: body.password });
  }
}
