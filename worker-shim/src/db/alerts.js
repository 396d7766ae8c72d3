// The GitHub issues of alerts in D1 (alert_github_issues): the SQL of github delivery.

/** The issue opened for `alertId` on `channel`, or null. */
export async function githubIssue(db, channel, alertId) {
  return db
    .prepare('SELECT issue_number, issue_url, closed_at_ms FROM alert_github_issues WHERE channel = ? AND alert_id = ?')
    .bind(channel, alertId)
    .first();
}

/** Remembers the issue GitHub opened for `alertId` on `channel` (a retry's answer replaces it). */
export async function rememberGithubIssue(db, { channel, alertId, repository, number, url, nowMs }) {
  await db
    .prepare(
      `INSERT INTO alert_github_issues (channel, alert_id, repository, issue_number, issue_url, opened_at_ms)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, alert_id) DO UPDATE SET repository = excluded.repository,
         issue_number = excluded.issue_number, issue_url = excluded.issue_url,
         opened_at_ms = excluded.opened_at_ms, closed_at_ms = NULL`,
    )
    .bind(channel, alertId, repository, number, url, nowMs)
    .run();
}

/** Marks the issue of `alertId` on `channel` closed. */
export async function githubIssueClosed(db, channel, alertId, nowMs) {
  await db
    .prepare('UPDATE alert_github_issues SET closed_at_ms = ? WHERE channel = ? AND alert_id = ?')
    .bind(nowMs, channel, alertId)
    .run();
}
