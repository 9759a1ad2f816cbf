import { describe, expect, it } from 'vitest';
import { drivers, HOST_KINDS } from '../../src/forge/registry.js';

describe('the driver registry', () => {
  it('has one driver per host kind, each naming its own kind', () => {
    expect(HOST_KINDS.sort()).toEqual(
      ['azure-devops', 'bitbucket', 'bitbucket-dc', 'forgejo', 'gitea', 'github', 'gitlab'].sort(),
    );
    for (const kind of HOST_KINDS) expect(drivers[kind].kind).toBe(kind);
  });

  it('fails closed for every host when no secret is configured', () => {
    const request = { headers: {}, body: new TextEncoder().encode('{}') };
    for (const kind of HOST_KINDS) {
      expect(() => drivers[kind].verify(request, []), kind).toThrow(/no webhook secret/);
      expect(() => drivers[kind].verify(request, ['']), kind).toThrow(/no webhook secret/);
    }
  });
});
