import { Body, Controller, createParamDecorator, ExecutionContext, Get, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { ApiKeyGuard, ApiKeyPrincipal, ApiKeyRequest, CurrentApiKey, ForEveryRole, RequireScopes, SessionPrincipal } from '@signet/api-keys';
import { ApiProblems } from '@signet/http';

import { ACCOUNT_ERRORS, sessionRequired } from '../errors';
import { SessionGuard } from '../guards/session.strategy';
import { CreateAccountUseCase } from '../usecases/create/create-account.usecase';
import { ListAccountsUseCase } from '../usecases/list/list-accounts.usecase';
import { SignOutEverywhereUseCase } from '../usecases/sign-out/sign-out-everywhere.usecase';
import { SignUpUseCase } from '../usecases/sign-up/sign-up.usecase';
import { AccountDto, AccountListDto, CreateAccountDto, SessionDto, SignedOutDto, SignUpDto, toAccountResponse, toSessionResponse } from './dto';

/** The signed-in person of the request; refuses API keys. */
export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext): SessionPrincipal => {
  const session = context.switchToHttp().getRequest<ApiKeyRequest>().session;
  if (!session) throw sessionRequired();
  return session;
});

@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountsController {
  constructor(
    private readonly signUp: SignUpUseCase,
    private readonly createAccount: CreateAccountUseCase,
    private readonly signOutEverywhere: SignOutEverywhereUseCase,
    private readonly listAccounts: ListAccountsUseCase,
  ) {}

  @Get()
  @UseGuards(ApiKeyGuard)
  @RequireScopes()
  @ApiBearerAuth()
  @ApiOperation({ summary: "The org's people and their roles, oldest first; a session or a secret key" })
  @ApiOkResponse({ type: AccountListDto })
  async list(@CurrentApiKey() caller: ApiKeyPrincipal): Promise<AccountListDto> {
    return { accounts: (await this.listAccounts.execute({ orgId: caller.orgId })).map(toAccountResponse) };
  }

  @Post()
  @HttpCode(201)
  @UseGuards(ApiKeyGuard)
  @RequireScopes()
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Add a person to the org (owner: any role; admin: admin or viewer); a session or a secret key' })
  @ApiCreatedResponse({ type: AccountDto })
  async add(@CurrentApiKey() caller: ApiKeyPrincipal, @Req() request: ApiKeyRequest, @Body() body: CreateAccountDto): Promise<AccountDto> {
    const account = await this.createAccount.execute({ orgId: caller.orgId, session: request.session, username: body.username, password: body.password, role: body.role });
    return toAccountResponse(account);
  }

  @Post('sign-up')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create the first account (owner) with the one-time sign-up code' })
  @ApiCreatedResponse({ type: AccountDto })
  async create(@Body() body: SignUpDto): Promise<AccountDto> {
    return toAccountResponse(await this.signUp.execute({ signupCode: body.signup_code, username: body.username, password: body.password }));
  }

  @Get('me')
  @UseGuards(SessionGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The signed-in account of a session (not for API keys)' })
  @ApiOkResponse({ type: SessionDto })
  me(@CurrentSession() session: SessionPrincipal): SessionDto {
    return toSessionResponse(session);
  }

  @Post('me/sign-out')
  @HttpCode(200)
  @UseGuards(ApiKeyGuard)
  @RequireScopes()
  @ForEveryRole()
  @ApiBearerAuth()
  @ApiProblems({ 401: [ACCOUNT_ERRORS.sessionRequired] })
  @ApiOperation({ summary: 'Sign out everywhere: end every CLI and dashboard sign-in of this account (`signet logout --all`)', description: 'A session only, not an API key.' })
  @ApiOkResponse({ type: SignedOutDto })
  async signOut(@CurrentSession() session: SessionPrincipal): Promise<SignedOutDto> {
    return { revoked_grants: (await this.signOutEverywhere.execute({ accountId: session.accountId })).revokedGrants };
  }
}
