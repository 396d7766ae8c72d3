-- The cost engine: versioned price lists, budgets, cost snapshots and cost reports.
-- (0002 and 0003 are taken by parallel work.)

-- Price-list versions set by an admin (PUT /api/pricing). A version prices every month from
-- effective_from (always the first day of a month) until the next version's month; the
-- built-in default in the core (R2's published prices) prices every month before the first
-- row. The API refuses an effective_from before the current month, so a month already billed
-- keeps its prices; a second update for the same month replaces the first.
CREATE TABLE IF NOT EXISTS pricing_tiers (
  effective_from TEXT PRIMARY KEY,
  price_list_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- Monthly budgets (PUT /api/costs/budgets replaces the set). scope is '' for the whole
-- account, else a bucket name; budget_json is the engine's normalized budget, as answered.
CREATE TABLE IF NOT EXISTS cost_budgets (
  scope TEXT PRIMARY KEY,
  monthly_micro_usd INTEGER NOT NULL CHECK (monthly_micro_usd > 0),
  warn_at_pct INTEGER NOT NULL,
  budget_json TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);

-- What the cost job computed (cost_bill): one row per (month, as_of), rewritten when the job
-- runs again for the same day, so a retried run never stores twice.
CREATE TABLE IF NOT EXISTS cost_snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  month TEXT NOT NULL,
  as_of TEXT NOT NULL,
  computed_at_ms INTEGER NOT NULL,
  pricing_effective_from TEXT NOT NULL,
  total_micro_usd INTEGER NOT NULL,
  forecast_low_micro_usd INTEGER NOT NULL,
  forecast_expected_micro_usd INTEGER NOT NULL,
  forecast_high_micro_usd INTEGER NOT NULL,
  report_json TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_cost_snapshots_identity ON cost_snapshots (month, as_of);
CREATE INDEX IF NOT EXISTS idx_cost_snapshots_time ON cost_snapshots (computed_at_ms);

-- Daily ('YYYY-MM-DD') and monthly ('YYYY-MM') cost reports, one per period.
CREATE TABLE IF NOT EXISTS cost_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL CHECK (type IN ('daily', 'monthly')),
  period TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  report_json TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_cost_reports_identity ON cost_reports (type, period);
CREATE INDEX IF NOT EXISTS idx_cost_reports_time ON cost_reports (type, created_at_ms);
