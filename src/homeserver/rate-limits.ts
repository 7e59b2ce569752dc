import type { RateLimitMode } from './types.ts';

/**
 * Synapse's `rc_*` settings for a rate-limit mode. `0` does not mean "unlimited" in Synapse,
 * so test mode uses numbers no test reaches. Keys are those Synapse 1.160
 * (synapse/config/ratelimiting.py) reads; unknown keys would be ignored silently, not rejected.
 */
const HUGE = { per_second: 10_000, burst_count: 100_000 } as const;

export function rateLimitConfig(mode: RateLimitMode): Record<string, unknown> {
  if (mode === 'default') return {};
  return {
    rc_message: HUGE,
    rc_registration: HUGE,
    rc_registration_token_validity: HUGE,
    rc_login: { address: HUGE, account: HUGE, failed_attempts: HUGE },
    rc_admin_redaction: HUGE,
    rc_joins: { local: HUGE, remote: HUGE },
    rc_joins_per_room: HUGE,
    rc_key_requests: HUGE,
    rc_3pid_validation: HUGE,
    rc_invites: { per_room: HUGE, per_user: HUGE, per_issuer: HUGE },
    rc_third_party_invite: HUGE,
    rc_media_create: HUGE,
    rc_presence: { per_user: HUGE },
    rc_delayed_event_mgmt: HUGE,
    // Synapse's default allows one room per minute after a burst of 10: tests create many.
    rc_room_creation: HUGE,
    rc_reports: HUGE,
    rc_user_directory: HUGE,
  };
}
