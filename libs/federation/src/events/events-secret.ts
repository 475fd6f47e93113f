/** SecretBox context of a provider's events secret: it only opens for that provider, and never as its IdP secret. */
export const eventsSecretContext = (providerId: string): string => `idp_provider_events:${providerId}`;
