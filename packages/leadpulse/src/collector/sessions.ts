// Sessions from event times: a visitor's session ends after `gapMs` of inactivity (30 minutes).
// Pure: the caller supplies what it knows of each visitor's latest session and an id factory.

export interface SessionState {
  sessionId: string;
  lastTs: Date;
}

export interface SessionEvent {
  visitor: string;
  ts: Date;
}

export interface SessionTouch {
  sessionId: string;
  visitor: string;
  /** True when this call opened the session (a new VisitorSession row). */
  isNew: boolean;
  /** Earliest and latest event of this batch in the session (extend started_at/ended_at with them). */
  firstTs: Date;
  lastTs: Date;
}

export interface SessionAssignment {
  /** The session of each event, in the order the events were given. */
  sessionIds: string[];
  /** `previous` with each visitor's latest session after this batch (a new map; `previous` is not changed). */
  state: Map<string, SessionState>;
  /** Every session this batch touched, in the order first touched. */
  sessions: SessionTouch[];
}

export const SESSION_GAP_MS = 30 * 60_000;

/** Events are taken per visitor in time order (ties keep their given order). An event joins the
 *  visitor's known session when it is less than `gapMs` from that session's last event — before it
 *  (a late arrival) or after it; otherwise it joins the session of the visitor's preceding event in
 *  this batch when that is less than `gapMs` before it; otherwise it opens a new session. So a
 *  29:59 gap continues a session and 30:00 starts a new one. */
export function assignSessions(
  events: ReadonlyArray<SessionEvent>,
  previous: ReadonlyMap<string, SessionState>,
  newId: () => string,
  gapMs: number = SESSION_GAP_MS,
): SessionAssignment {
  const byVisitor = new Map<string, number[]>();
  events.forEach((e, i) => {
    const list = byVisitor.get(e.visitor);
    if (list) list.push(i);
    else byVisitor.set(e.visitor, [i]);
  });

  const sessionIds: string[] = new Array<string>(events.length);
  const state = new Map(previous);
  const touches = new Map<string, SessionTouch>();
  const touch = (sessionId: string, visitor: string, ts: Date, isNew: boolean) => {
    const t = touches.get(sessionId);
    if (!t) touches.set(sessionId, { sessionId, visitor, isNew, firstTs: ts, lastTs: ts });
    else {
      if (ts < t.firstTs) t.firstTs = ts;
      if (ts > t.lastTs) t.lastTs = ts;
    }
  };

  for (const [visitor, indices] of byVisitor) {
    indices.sort((a, b) => events[a]!.ts.getTime() - events[b]!.ts.getTime() || a - b);
    const known = previous.get(visitor);
    let knownLast = known?.lastTs.getTime();
    let current: { sessionId: string; lastTs: number } | undefined;
    let latest: SessionState | undefined = known;
    for (const i of indices) {
      const ts = events[i]!.ts;
      const t = ts.getTime();
      let sessionId: string;
      let isNew = false;
      if (known && knownLast !== undefined && Math.abs(t - knownLast) < gapMs) {
        sessionId = known.sessionId;
        knownLast = Math.max(knownLast, t);
      } else if (current && t - current.lastTs < gapMs) {
        sessionId = current.sessionId;
      } else {
        sessionId = newId();
        isNew = true;
      }
      current = { sessionId, lastTs: t };
      sessionIds[i] = sessionId;
      touch(sessionId, visitor, ts, isNew);
      if (!latest || t >= latest.lastTs.getTime()) latest = { sessionId, lastTs: ts };
    }
    if (latest) state.set(visitor, latest);
  }
  return { sessionIds, state, sessions: [...touches.values()] };
}
