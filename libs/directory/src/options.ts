import type { SignetConfig } from '@signet/config';

/** Tunables of the directory feature; the composition builds them with {@link directoryOptionsFrom}. */
export interface DirectoryOptions {
  /** Most resources in one SCIM list response (ServiceProviderConfig `filter.maxResults`). */
  scimMaxResults: number;
}

export const DIRECTORY_OPTIONS = Symbol('DIRECTORY_OPTIONS');

// No variable of its own yet: the SCIM page size is a protocol constant advertised to the IdP.
export function directoryOptionsFrom(_config: SignetConfig): DirectoryOptions {
  return { scimMaxResults: 200 };
}
