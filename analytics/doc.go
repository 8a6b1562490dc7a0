// Package analytics holds the statistics behind Rapport's management of
// moments of truth: rates and means with their uncertainty, comparisons of
// alternative responses, the decay of service standards, targets, the impact
// of misery on what customers do next, and the priority that follows from it.
//
// Everything here is a plain function of counts and sums. The package touches
// no database and no network, so the store can keep running aggregates
// (counts, sums, sums of squares) current as moments are recorded and hand
// them in, and every figure a report shows can be checked by hand.
//
// # Rates: the Wilson score interval
//
// A rate such as the share of magic moments is shown with a 95% interval from
// the Wilson score method. The textbook "rate ± 1.96 standard errors" (the
// Wald interval) fails exactly where Rapport needs care: with few moments, or
// with rates near 0% or 100%, it can run below 0 or above 100%, or shrink to
// nothing after 5 magic moments out of 5. Wilson's interval always stays
// between 0 and 1, is never empty, and holds its promised 95% coverage far
// better for small samples (Newcombe 1998; Brown, Cai and DasGupta 2001).
// With no moments there is no interval at all, and the functions say so.
//
// # Means: the t interval and the one-sample t-test
//
// Mean ratings come from three running aggregates: the count, the sum and the
// sum of squares, from which the sample standard deviation follows. The
// interval is mean ± t × standard error, with Student's t for N−1 degrees of
// freedom rather than the normal 1.96, because with a handful of ratings the
// spread itself is uncertain. One rating gives a mean but no interval. Whether
// a touchpoint is below its target is a one-sided one-sample t-test: is the
// mean significantly lower than the target, not merely lower by chance?
// Two means (e.g. two responses' ratings) are compared with Welch's t-test,
// which does not assume both have the same spread.
//
// # Comparing two rates: Newcombe's interval, z-test or Fisher's exact test
//
// The difference between two rates gets Newcombe's hybrid score interval,
// built from the two Wilson intervals; it inherits their good behaviour with
// small samples and extreme rates, unlike the Wald interval for a difference.
// The p-value comes from the pooled two-proportion z-test when every expected
// count of the 2×2 table (magic / not magic by group) is at least 5, the usual
// rule under which the normal approximation holds; otherwise it comes from
// Fisher's exact test, which needs no approximation and so is right for the
// small samples of a new response or a quiet touchpoint. Results state which
// test was used.
//
// # Declaring a winning response: one-sided tests with Holm's adjustment
//
// A response is declared the one that delights only when its magic rate is
// higher than that of every other response with statistical significance: the
// leader is tested against each other response (one-sided, "the leader is
// higher"), and all those p-values must stay below the significance level
// after two adjustments. Because the leader is picked by looking at the data,
// each one-sided p-value is doubled; otherwise two equally good responses
// would produce a false winner twice as often as the chosen level allows.
// Because there may be many responses to beat, the doubled p-values are then
// adjusted by Holm's step-down method (Holm–Bonferroni), which controls the
// chance of any false finding among them with more power than plain
// Bonferroni and no assumptions about how the comparisons relate. Otherwise
// there is no winner, with a reason: too few moments (fewer than two responses,
// or a response below the minimum number of moments) or no significant
// difference. The per-pair p-values, raw and adjusted, come with the verdict.
//
// # Decay of a service standard
//
// When a delighting response becomes the standard, customers come to expect
// it and its magic rate falls. Decay is declared when the magic rate since
// promotion is significantly below the baseline before promotion (a one-sided
// test, z or Fisher as above), and only when both periods have enough moments.
//
// # Impact and priority
//
// Impact compares customers who had a misery moment at a touchpoint with
// customers whose moments there were not misery: the share of each who then
// dissolved (or stopped buying) within a window. It is reported as a risk
// difference (extra dissolutions per misery customer, with Newcombe's
// interval), a relative risk ("three times as likely", with Katz's log
// interval and a 0.5 correction when a group has no events) and a p-value.
// It is an association measured on real customers, not a controlled
// experiment: customers who meet misery may differ in other ways too, which is
// one more reason to rank by the cautious end of the interval.
//
// Priority is the expected number of extra dissolutions that go with the
// touchpoint's misery in a period: misery volume × the lower 95% bound of the
// risk difference. Using the lower bound rather than the estimate means that a
// touchpoint climbs only as high as the evidence carries it: a dramatic rate
// from a handful of customers has a wide interval whose lower bound is near
// or below zero, so it cannot top the list on luck. A manager may override
// the rank of a touchpoint; the override wins and is marked as such.
//
// # Net Promoter Score
//
// NPS is the percentage of promoters (9–10) minus that of detractors (0–6).
// Its interval is the adjusted-Wald method that Rocks (2016) found best among
// those he compared: add three pseudo-answers (¾ promoter, ¾ detractor, 1½
// passive) and use the variance of a difference of two shares of one sample.
//
// # Weeks
//
// Trends are bucketed by week, Monday 00:00 UTC to the next Monday. Week
// numbers count from Monday 1970-01-05, so the SQL store can bucket
// microsecond timestamps with integer arithmetic alone, identically on SQLite
// and PostgreSQL: week = floor((micros − 345600000000) / 604800000000).
//
// # Conventions
//
// Confidence levels and significance levels are fractions (0.95, 0.05).
// Nothing returns NaN or an infinity: where a figure cannot be computed the
// result says so (ok = false, OK = false, or a Reason), estimates are 0 and
// p-values are 1, so that missing data never looks like a finding.
//
// References: R. G. Newcombe, "Two-sided confidence intervals for the single
// proportion: comparison of seven methods" and "Interval estimation for the
// difference between independent proportions: comparison of eleven methods",
// Statistics in Medicine 17 (1998); S. Holm, "A simple sequentially rejective
// multiple test procedure", Scandinavian Journal of Statistics 6 (1979);
// B. Rocks, "Interval estimation for the Net Promoter Score", The American
// Statistician 70 (2016).
package analytics
