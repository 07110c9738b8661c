import { loadConfig } from '../config/load-config';
import { namespaceFor } from './event-bus.module';

describe('namespaceFor (the prefix of every exchange and queue)', () => {
  it('is "appserver" by default', () => {
    expect(namespaceFor(loadConfig({}), {})).toBe('appserver');
  });

  it('is random per bus in test mode, so parallel test runs never share one', () => {
    const config = loadConfig({ APPSERVER_EVENTBUS_TEST_MODE: 'true' });
    const first = namespaceFor(config, {});
    expect(first).toMatch(/^appserver-test-[0-9a-f]{8}$/);
    expect(namespaceFor(config, {})).not.toBe(first);
  });

  it('is APPSERVER_EVENTBUS_NAMESPACE when set, in test mode too (instances that must see each other share it)', () => {
    expect(namespaceFor(loadConfig({ APPSERVER_EVENTBUS_NAMESPACE: 'tenant-a' }), {})).toBe('tenant-a');
    expect(namespaceFor(loadConfig({ APPSERVER_EVENTBUS_NAMESPACE: 'run-42', APPSERVER_EVENTBUS_TEST_MODE: 'true' }), {})).toBe('run-42');
  });

  it('is the module option above all', () => {
    expect(namespaceFor(loadConfig({ APPSERVER_EVENTBUS_NAMESPACE: 'from-env' }), { namespace: 'from-module' })).toBe('from-module');
  });
});
