import { InMemoryOrgSettingsRepository } from '../../testing';
import { GetOrgSettingsUseCase } from '../get-org-settings/get-org-settings.usecase';
import { UpdateOrgSettingsUseCase } from './update-org-settings.usecase';

function setup() {
  const settings = new InMemoryOrgSettingsRepository();
  settings.orgs.add('org_a');
  const get = new GetOrgSettingsUseCase(settings);
  return { get, update: new UpdateOrgSettingsUseCase(settings, get) };
}

describe('org settings (through the repository fake)', () => {
  it('has the defaults until changed, then what was stored', async () => {
    const { get, update } = setup();
    await expect(get.execute({ orgId: 'org_a' })).resolves.toEqual({ willOnRevoke: 'suppress' });
    await expect(update.execute({ orgId: 'org_a', willOnRevoke: 'publish' })).resolves.toEqual({ willOnRevoke: 'publish' });
    await expect(get.execute({ orgId: 'org_a' })).resolves.toEqual({ willOnRevoke: 'publish' });
  });

  it('leaves the settings alone when no field is given', async () => {
    const { get, update } = setup();
    await update.execute({ orgId: 'org_a', willOnRevoke: 'publish' });
    await expect(update.execute({ orgId: 'org_a' })).resolves.toEqual({ willOnRevoke: 'publish' });
    await expect(get.execute({ orgId: 'org_a' })).resolves.toEqual({ willOnRevoke: 'publish' });
  });

  it("answers invalid_api_key when the key's org no longer exists", async () => {
    const { update } = setup();
    await expect(update.execute({ orgId: 'org_gone', willOnRevoke: 'publish' })).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
  });
});
