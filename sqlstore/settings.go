package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/rapport-crm/rapport"
	"github.com/rapport-crm/rapport/analytics"
)

// Every group of moments recorded consults the firm's settings: the
// recovery policy and service levels to open cases, the stage rules,
// touchpoint names and risk model to measure customers, the survey policies
// to invite, the webhook subscriptions to raise events. They change rarely,
// so each server keeps what it read with the settings' version (migrations
// 0090 and 0095), which the database changes whenever one of their tables
// does; so are the touchpoints and responses a moment may name. A
// change to moments reads the version once, as it starts
// (applyMomentChange), and the settings only when the version has moved
// since this server last read them; nothing in the change itself alters a
// setting. Elsewhere the settings are read afresh each time. The settings
// kept are shared by every transaction and never changed once read.

// settingsCache is what a DB has read of the settings, at one version.
type settingsCache struct {
	mu      sync.Mutex
	version int64
	known   bool
	values  map[settingKind]any
}

// settingKind names one of the settings kept.
type settingKind int

const (
	settingPolicy settingKind = iota
	settingLevels
	settingRules
	settingNames
	settingModel
	settingSurveys
	settingSubscribers
	settingMomentRefs
)

// setting returns the setting of kind, read with load unless this server
// read it at the version the transaction's change to moments started with.
// The value is shared: callers must not change it.
func setting[T any](ctx context.Context, tx *tx, kind settingKind, load func(context.Context, querier) (T, error)) (T, error) {
	c, version := tx.settings, tx.settingsVersion
	if c == nil || version == nil {
		return load(ctx, tx.querier)
	}
	c.mu.Lock()
	if c.known && c.version == *version {
		if v, ok := c.values[kind]; ok {
			c.mu.Unlock()
			return v.(T), nil
		}
	}
	c.mu.Unlock()
	v, err := load(ctx, tx.querier)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known || c.version != *version {
		c.version, c.known, c.values = *version, true, map[settingKind]any{}
	}
	c.values[kind] = v
	return v, nil
}

// pinSettings reads the settings' version for a change to moments; the
// settings it consults are then those of that version until the returned
// unpin. Pinned already (the moments' references were checked with the
// settings of this transaction), it keeps that version, and unpin leaves it.
func (t *tx) pinSettings(ctx context.Context) (unpin func(), err error) {
	if t.settings == nil || t.settingsVersion != nil {
		return func() {}, nil
	}
	var v int64
	if err := t.queryRow(ctx, `SELECT version FROM settings_version WHERE id = 1`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read the settings' version: %w", err)
	}
	t.settingsVersion = &v
	return func() { t.settingsVersion = nil }, nil
}

// The settings as the moment pipeline reads them.

func cachedPolicy(ctx context.Context, tx *tx) (*rapport.RecoveryPolicy, error) {
	return setting(ctx, tx, settingPolicy, findPolicy)
}

func cachedServiceLevels(ctx context.Context, tx *tx) (map[string]int, error) {
	return setting(ctx, tx, settingLevels, serviceLevels)
}

func cachedStageRules(ctx context.Context, tx *tx) (*rapport.StageRules, error) {
	return setting(ctx, tx, settingRules, loadStageRules)
}

func cachedTouchpointNames(ctx context.Context, tx *tx) (touchpointNames, error) {
	return setting(ctx, tx, settingNames, loadTouchpointNames)
}

func cachedRiskModel(ctx context.Context, tx *tx) (*analytics.RiskModel, error) {
	return setting(ctx, tx, settingModel, loadRiskModel)
}

func cachedSurveyPolicies(ctx context.Context, tx *tx) (map[string]*rapport.SurveyPolicy, error) {
	return setting(ctx, tx, settingSurveys, enabledSurveyPolicies)
}

func cachedMomentRefs(ctx context.Context, tx *tx) (momentRefs, error) {
	return setting(ctx, tx, settingMomentRefs, loadMomentRefs)
}
