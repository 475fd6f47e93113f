import { Body, Controller, createParamDecorator, ExecutionContext, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyRequest, RequireScopes, SessionPrincipal } from '@signet/api-keys';

import { sessionRequired } from '../errors';
import { SignUpUseCase } from '../usecases/sign-up/sign-up.usecase';
import { AccountDto, SessionDto, SignUpDto, toAccountResponse, toSessionResponse } from './dto';

/** The signed-in person of the request; refuses API keys. */
export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext): SessionPrincipal => {
  const session = context.switchToHttp().getRequest<ApiKeyRequest>().session;
  if (!session) throw sessionRequired();
  return session;
});

@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(private readonly signUp: SignUpUseCase) {}

  @Post('sign-up')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create the first account (owner) with the one-time sign-up code' })
  @ApiCreatedResponse({ type: AccountDto })
  async create(@Body() body: SignUpDto): Promise<AccountDto> {
    return toAccountResponse(await this.signUp.execute({ signupCode: body.signup_code, username: body.username, password: body.password }));
  }

  @Get('me')
  @UseGuards(ApiKeyGuard)
  @RequireScopes()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in account of a session (not for API keys)' })
  @ApiOkResponse({ type: SessionDto })
  me(@CurrentSession() session: SessionPrincipal): SessionDto {
    return toSessionResponse(session);
  }
}
