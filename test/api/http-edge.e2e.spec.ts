import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { RunningServer } from '../support/app-server-harness';

/** Sends `request` as raw bytes and resolves with the status line and the body of the answer. */
function rawRequest(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}

const TRIVIAL = JSON.stringify({ query: '{ __typename }' });

/**
 * The HTTP edge, where clients send what they like: each oddity gets a clear
 * 4xx, never a 500, and the server goes on serving. No services needed.
 */
describe('HTTP edge', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await RunningServer.start({ transport: 'memory', namespace: `http-edge-${randomBytes(3).toString('hex')}`, database: { embeddedFile: ':memory:' } });
  });

  afterAll(() => server?.close());

  it('refuses a GraphQL request whose Host header names no valid host with a 400, and serves the next one', async () => {
    const answer = await rawRequest(
      server.url,
      `POST /graphql HTTP/1.1\r\nHost: a b\r\nContent-Type: application/json\r\nContent-Length: ${TRIVIAL.length}\r\nConnection: close\r\n\r\n${TRIVIAL}`,
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ message: 'The Host header does not name a valid host' });
    expect((await server.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('answers GET /health without any Host header (HTTP/1.0, as some health checkers send it)', async () => {
    const answer = await rawRequest(server.url, 'GET /health HTTP/1.0\r\n\r\n');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok' });
  });

  it('answers a path it does not serve with the 404 of Nest (the GraphQL fault filter leaves HTTP alone)', async () => {
    const response = await fetch(`${server.url}/no-such-path`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /no-such-path' });
  });

  it('serves /graphql/ as /graphql', async () => {
    const response = await fetch(`${server.url}/graphql/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: TRIVIAL });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a form-encoded body (415): GraphQL takes JSON', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D',
    });
    expect(response.status).toBe(415);
  });

  it('refuses a body that is not JSON with a 400 that says so', async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/not valid JSON/);
  });
});
