import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../api';
import { rolesUpTo, sortKeys } from './apiKeys';

const key = (id: string, created_at: number, revoked_at: number | null = null): ApiKey => ({ id, name: id, prefix: 'bk_abcde', role: 'admin', created_at, revoked_at });

describe('API keys', () => {
  it('offers roles up to the member’s own', () => {
    expect(rolesUpTo('owner')).toEqual(['agent', 'admin', 'owner']);
    expect(rolesUpTo('admin')).toEqual(['agent', 'admin']);
    expect(rolesUpTo('agent')).toEqual([]);
    expect(rolesUpTo('stranger')).toEqual([]);
  });
  it('lists keys in use first, newest first', () => {
    const keys = [key('old', 1), key('gone', 5, 6), key('new', 3), key('gone-earlier', 2, 4)];
    expect(sortKeys(keys).map((k) => k.id)).toEqual(['new', 'old', 'gone', 'gone-earlier']);
    expect(keys[0]?.id).toBe('old');
  });
});
