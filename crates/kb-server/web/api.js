// Server access. Every call goes through `api()`, which counts it, sends
// the token (and, for writes, the session version as `If-Match`, so a move
// made on a stale page is refused instead of applied) and turns any failure
// into an `ApiError` with a readable message.

import { state } from './state.js';
import { describeRequirement } from './content.js';

const API = '/api';

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** A call; `anonymous` sends no token (a guest's creation). */
export async function api(method, path, body, { write = false, anonymous = false } = {}) {
  const headers = { Accept: 'application/json' };
  const token = anonymous ? null : state.credential ?? state.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (write && state.version !== null) headers['If-Match'] = `"${state.version}"`;
  state.requests += 1;
  document.body.dataset.requests = String(state.requests);
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, null, `Cannot reach the server (${error.message}). Is it running?`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok || data?.status === 'error') {
    throw new ApiError(response.status, data, errorMessage(response.status, data, text));
  }
  return data;
}

/** The envelope's `message` or the action route's `error`, with the
 * failing requirement spelled out. */
function errorMessage(status, data, text) {
  let message = data?.message ?? data?.error ?? (text ? text.slice(0, 200) : '');
  if (!message) message = `The server answered ${status}.`;
  if (data?.requirementFailure) message = `${message}: ${describeRequirement(data.requirementFailure)}`;
  if (Array.isArray(data?.issues) && data.issues.length) {
    message += ` (${data.issues.map((issue) => issue.message ?? JSON.stringify(issue)).join('; ')})`;
  }
  if (status === 401 || status === 403) {
    message = `The server refused access: ${message} Check the access token on the start screen.`;
  }
  return message;
}

export const sessionPath = (suffix = '') => `/sessions/${encodeURIComponent(state.sessionId)}${suffix}`;
