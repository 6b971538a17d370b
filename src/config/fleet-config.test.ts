import { describe, expect, it } from 'vitest';
import { configFromObject } from './load.js';
import { defaultHostName } from './host-name.js';

const base = { accounts: [{ name: 'A', home: '/h/a' }] };
const env = { HOME: '/home/u' };
const load = (extra: Record<string, unknown>) => configFromObject({ ...base, ...extra }, { baseDir: '/etc/cf', env });

describe('store.shared and fleet in the config', () => {
  it('keeps a single host with no shared store by default, named after the machine', () => {
    const result = load({});
    if (!result.ok) throw new Error(result.report);
    expect(result.config.store.shared).toBeNull();
    expect(result.config.fleet).toEqual({ host: defaultHostName(), spread: false, leaseMs: 30_000 });
    expect(defaultHostName()).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('takes the one line a fleet needs, and TLS files as paths', () => {
    const result = load({ store: { shared: { url: 'postgresql://cf:pw@db.internal:5432/failover', tls: { ca: 'ca.pem' } } }, fleet: { host: 'box-2', spread: true } });
    if (!result.ok) throw new Error(result.report);
    expect(result.config.store.shared).toEqual({ url: 'postgresql://cf:pw@db.internal:5432/failover', tls: { ca: '/etc/cf/ca.pem', cert: null, key: null, rejectUnauthorized: true }, poolSize: 10, connectTimeoutMs: 5000 });
    expect(result.config.fleet).toMatchObject({ host: 'box-2', spread: true });
  });

  it('names the field and what is wrong, never repeating the URL (it may hold a password)', () => {
    const result = load({ store: { shared: { url: 'mysql://cf:hunter2-secret@db/x' } }, fleet: { host: 'has space', leaseMs: 10 } });
    if (result.ok) throw new Error('accepted');
    expect(result.report).toContain('store.shared.url');
    expect(result.report).toContain('must be a PostgreSQL URL');
    expect(result.report).not.toContain('hunter2-secret');
    expect(result.report).toContain('fleet.host');
    expect(result.report).toContain('fleet.leaseMs');
  });
});
