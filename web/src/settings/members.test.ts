import { describe, expect, it } from 'vitest';
import { roleChoices, roleLabel } from './members';

describe('roles', () => {
  it('lets only owners give the owner role', () => {
    expect(roleChoices('owner')).toContain('owner');
    expect(roleChoices('admin')).not.toContain('owner');
    expect(roleChoices('admin')).toEqual(['agent', 'admin']);
  });
  it('names roles in words, and passes unknown ones through', () => {
    expect(roleLabel('agent')).toBe('Agent');
    expect(roleLabel('robot')).toBe('robot');
  });
});
