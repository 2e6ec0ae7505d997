import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  MalformedLambdaResponseError,
  formatRequestTime,
  fromHttpApiResult,
  toHttpApiEvent,
  type HttpApiRequest,
} from '../../../infra/local/http-api/api-gateway-event.ts';
import awsEvent from './fixtures/aws-http-api-v2-jwt-event.json' with { type: 'json' };

/** The request that, sent to AWS, produced the fixture event. */
function fixtureRequest(): HttpApiRequest & { jwtClaims: JWTPayload } {
  return {
    method: 'GET',
    rawPath: '/deployments/dep-123/logs',
    rawQueryString: 'since=2024-03-01&level=info&level=warn',
    headers: {
      accept: 'application/json',
      authorization: awsEvent.headers.authorization,
      'content-length': '0',
      cookie: 'session=abc123; theme=dark',
      host: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'curl/8.5.0',
      'x-amzn-trace-id': 'Root=1-65f0024e-0123456789abcdef01234567',
      'x-custom': 'one,two',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.7',
    routeKey: 'GET /deployments/{id}/logs',
    pathParameters: { id: 'dep-123' },
    requestId: 'JfX3Yj2QoAMEV2A=',
    receivedAt: new Date(1710228238123),
    apiId: 'a1b2c3d4e5',
    accountId: '123456789012',
    jwtClaims: {
      aud: 'coderunner-api',
      'cognito:groups': ['admins', 'developers'],
      email_verified: true,
      exp: 1710271438,
      iat: 1710228238,
      iss: 'https://coderunner.local/',
      scope: 'deployments/read deployments/write',
      sub: 'user-42',
    },
  };
}

function postRequest(body: Buffer, contentType?: string): HttpApiRequest {
  return {
    method: 'POST',
    rawPath: '/deployments',
    rawQueryString: '',
    headers: { host: 'localhost:3000', ...(contentType && { 'content-type': contentType }) },
    body,
    sourceIp: '127.0.0.1',
    routeKey: 'POST /deployments',
    requestId: 'AAAAAAAAAAAAAAA=',
  };
}

describe('toHttpApiEvent', () => {
  it('builds the same event AWS delivers for a JWT-authorized GET', () => {
    const request = fixtureRequest();

    const event = toHttpApiEvent(request);

    expect(event).toStrictEqual(awsEvent);
  });

  it('builds each part of the event the way AWS does', () => {
    const request = fixtureRequest();

    const event = toHttpApiEvent(request);

    expect(event.version).toBe(awsEvent.version);
    expect(event.routeKey).toBe(awsEvent.routeKey);
    expect(event.rawPath).toBe(awsEvent.rawPath);
    expect(event.rawQueryString).toBe(awsEvent.rawQueryString);
    expect(event.cookies).toStrictEqual(awsEvent.cookies);
    expect(event.headers).toStrictEqual(awsEvent.headers);
    expect(event.queryStringParameters).toStrictEqual(awsEvent.queryStringParameters);
    expect(event.pathParameters).toStrictEqual(awsEvent.pathParameters);
    expect(event.isBase64Encoded).toBe(awsEvent.isBase64Encoded);
    expect(event.requestContext.http).toStrictEqual(awsEvent.requestContext.http);
    expect(event.requestContext.authorizer).toStrictEqual(awsEvent.requestContext.authorizer);
    expect(event.requestContext.time).toBe(awsEvent.requestContext.time);
    expect(event.requestContext.timeEpoch).toBe(awsEvent.requestContext.timeEpoch);
  });

  it('orders the top-level fields as AWS serialises them', () => {
    const request = fixtureRequest();

    const event = toHttpApiEvent(request);

    expect(Object.keys(event)).toEqual(Object.keys(awsEvent));
    expect(Object.keys(event.requestContext)).toEqual(Object.keys(awsEvent.requestContext));
  });

  it('leaves out cookies, query parameters, path parameters and body when the request has none', () => {
    const request = postRequest(Buffer.alloc(0));

    const event = toHttpApiEvent(request);

    expect(Object.keys(event)).toEqual(['version', 'routeKey', 'rawPath', 'rawQueryString', 'headers', 'requestContext', 'isBase64Encoded']);
    expect(event.isBase64Encoded).toBe(false);
  });

  it('has no authorizer context on a route without the JWT authorizer', () => {
    const request = postRequest(Buffer.alloc(0));

    const event = toHttpApiEvent(request);

    expect(event.requestContext).not.toHaveProperty('authorizer');
  });

  it('sends scopes as null when the token has no scope claim', () => {
    const request = { ...postRequest(Buffer.alloc(0)), jwtClaims: { sub: 'user-1', exp: 1 } };

    const event = toHttpApiEvent(request);

    expect(event.requestContext.authorizer.jwt).toStrictEqual({ claims: { sub: 'user-1', exp: '1' }, scopes: null });
  });

  it('passes a JSON body as text', () => {
    const request = postRequest(Buffer.from('{"name":"app"}'), 'application/json; charset=utf-8');

    const event = toHttpApiEvent(request);

    expect(event).toMatchObject({ body: '{"name":"app"}', isBase64Encoded: false });
  });

  it.each([
    ['a binary content type', 'application/zip'],
    ['no content type', undefined],
    ['a form post', 'application/x-www-form-urlencoded'],
  ])('base64-encodes the body for %s', (_case, contentType) => {
    const bytes = Buffer.from('name=app&size=1');
    const request = postRequest(bytes, contentType);

    const event = toHttpApiEvent(request);

    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('base64-encodes a text body that is not valid UTF-8', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const request = postRequest(bytes, 'text/plain');

    const event = toHttpApiEvent(request);

    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('decodes query values and keeps an empty value', () => {
    const request = { ...postRequest(Buffer.alloc(0)), rawQueryString: 'q=a%20b&flag&tag=x&tag=y' };

    const event = toHttpApiEvent(request);

    expect(event.queryStringParameters).toStrictEqual({ q: 'a b', flag: '', tag: 'x,y' });
    expect(event.rawQueryString).toBe('q=a%20b&flag&tag=x&tag=y');
  });
});

describe('formatRequestTime', () => {
  it('formats in UTC like requestContext.time', () => {
    const date = new Date(Date.UTC(2020, 2, 2, 9, 3, 5));

    const text = formatRequestTime(date);

    expect(text).toBe('02/Mar/2020:09:03:05 +0000');
  });
});

describe('fromHttpApiResult', () => {
  it('passes a structured response through with lowercased headers', () => {
    const result = { statusCode: 202, headers: { 'Content-Type': 'application/json', 'X-Count': 3 }, body: '{"id":"d-1"}' };

    const response = fromHttpApiResult(result);

    expect(response.status).toBe(202);
    expect(response.headers).toStrictEqual({ 'content-type': 'application/json', 'x-count': '3' });
    expect(response.body.toString()).toBe('{"id":"d-1"}');
  });

  it('turns each cookie into its own set-cookie header', () => {
    const result = { statusCode: 200, cookies: ['a=1; Path=/', 'b=2'] };

    const response = fromHttpApiResult(result);

    expect(response.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(response.body.length).toBe(0);
  });

  it('decodes a base64 body', () => {
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const result = { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes.toString('base64'), isBase64Encoded: true };

    const response = fromHttpApiResult(result);

    expect(response.body).toEqual(bytes);
  });

  it('sends a plain object as a 200 JSON body', () => {
    const result = { id: 'd-1', status: 'PENDING' };

    const response = fromHttpApiResult(result);

    expect(response.status).toBe(200);
    expect(response.headers).toStrictEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(response.body.toString())).toEqual(result);
  });

  it('sends a plain string JSON-encoded, as the Lambda payload carries it', () => {
    const response = fromHttpApiResult('Hello from Lambda!');

    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('"Hello from Lambda!"');
  });

  it('sends null for a handler that returns nothing', () => {
    const response = fromHttpApiResult(undefined);

    expect(response.body.toString()).toBe('null');
  });

  it('drops multiValueHeaders with a warning, since payload 2.0 has none', () => {
    const result = { statusCode: 200, multiValueHeaders: { 'x-a': ['1', '2'] } };

    const response = fromHttpApiResult(result);

    expect(response.headers).not.toHaveProperty('x-a');
    expect(response.warnings).toHaveLength(1);
  });

  it.each([
    ['a statusCode that is not a number', { statusCode: '200' }],
    ['a body that is not a string', { statusCode: 200, body: { id: 1 } }],
    ['cookies that are not an array', { statusCode: 200, cookies: 'a=1' }],
  ])('rejects %s', (_case, result) => {
    const map = () => fromHttpApiResult(result);

    expect(map).toThrow(MalformedLambdaResponseError);
  });
});
