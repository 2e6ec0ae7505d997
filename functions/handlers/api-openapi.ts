/** `GET /openapi.json`: the API's OpenAPI document (no token needed). */
import { openApiDocument } from '../shared/api/openapi.ts';
import { apiHandler, json } from '../shared/middleware/http-api.ts';

const document = openApiDocument();

export const handler = apiHandler(async () => json(200, document, { 'cache-control': 'public, max-age=300' }));
