// @marketsage/leadpulse: website visitors, journeys, funnels and intent (issue 11, being built:
// not in the catalog yet; the pure parts first).
export {};
