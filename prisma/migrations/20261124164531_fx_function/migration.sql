-- Money in another currency, converted with the stored daily rates (base USD) nearest to the
-- given time. NULL when no rate is stored for a currency: callers say so rather than guess.
CREATE OR REPLACE FUNCTION marketsage_fx(amount numeric, src text, dst text, at timestamptz) RETURNS numeric
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN src = dst THEN amount ELSE
    amount
    * (CASE WHEN dst = 'USD' THEN 1 ELSE (SELECT rate FROM fx_rates WHERE base = 'USD' AND quote = dst ORDER BY abs(as_of - at::date), as_of DESC LIMIT 1) END)
    / NULLIF(CASE WHEN src = 'USD' THEN 1 ELSE (SELECT rate FROM fx_rates WHERE base = 'USD' AND quote = src ORDER BY abs(as_of - at::date), as_of DESC LIMIT 1) END, 0)
  END
$$;
