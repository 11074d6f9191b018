import type { FastifyReply } from 'fastify';
import type { AppConfig } from '../config/app-config';
import { SESSION_COOKIE } from './request-credentials';

/** The session as the web UI carries it: an HttpOnly cookie, SameSite=Lax (a cross-site form cannot use it), Secure behind HTTPS. */
export function setSessionCookie(reply: FastifyReply, session: { token: string; expiresAt: string }, config: AppConfig): void {
  reply.setCookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: config.session.cookieSecure,
    path: '/',
    expires: new Date(session.expiresAt),
  });
}
