/**
 * An HTTP request to 127.0.0.1 with any headers, `Host` included (fetch would not send a Host of our choosing):
 * a DNS-rebinding page's requests reach a server on this machine saying `Host: evil.example`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The `code` of a JSON body, if it has one. */
  code?: string;
}

export function httpTo(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(body) as { code?: string }).code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(code === undefined ? {} : { code }) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
