package watch

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"
)

// feed is the cache of one resource in one namespace ("" = all): the reflector's store and
// the per-resource state. Everything but the fixed fields is guarded by the cluster's mutex,
// so a snapshot of all feeds is consistent.
type feed struct {
	c    *Cluster
	kind *kind
	// res is the resource the feed fills; nil for the namespace watch of the scope loop.
	res *cachedResource
	ns  string
	// placeholder: a namespace the access review denied; nothing runs (cancel is nil).
	placeholder bool

	cancel context.CancelFunc
	done   chan struct{}

	items     map[string]runtime.Object // key namespace/name → trimmed object, never modified once stored
	synced    bool
	forbidden bool
	missing   bool
	err       string
	retryAt   time.Time // a forbidden or missing resource is not asked again before this
	// byObject indexes Warning events by involved object, to keep only the newest few.
	byObject map[string]map[string]struct{}
}

// trim turns a decoded object into what is stored; nil means "do not store".
func (f *feed) trim(obj any, now time.Time) (string, runtime.Object) {
	t := f.kind.trim(obj)
	if t == nil {
		return "", nil
	}
	if f.kind.keep != nil && !f.kind.keep(t, now) {
		return "", nil
	}
	key, err := cache.MetaNamespaceKeyFunc(t)
	if err != nil {
		return "", nil
	}
	return key, t
}

// Transformer lets the reflector trim objects already while a watch-list streams the first
// state into its temporary store (cache.TransformingStore).
func (f *feed) Transformer() cache.TransformFunc {
	return func(obj any) (any, error) {
		if t := f.kind.trim(obj); t != nil {
			return t, nil
		}
		return obj, nil
	}
}

// Add stores a new object.
func (f *feed) Add(obj any) error { return f.put(obj) }

// Update stores a changed object.
func (f *feed) Update(obj any) error { return f.put(obj) }

func (f *feed) put(obj any) error {
	c := f.c
	now := c.opts.Now()
	key, t := f.trim(obj, now)
	c.mu.Lock()
	if t == nil {
		// A Warning event that aged out, or something unexpected: make sure it is gone.
		if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			f.deleteLocked(k)
		}
	} else {
		f.items[key] = t
		if e, ok := t.(*corev1.Event); ok {
			f.indexEventLocked(key, e)
		}
	}
	c.lastEvent, c.lastContact = now, now
	c.mu.Unlock()
	f.itemsChanged()
	return nil
}

// itemsChanged wakes readers, and the scope loop when the namespaces changed.
func (f *feed) itemsChanged() {
	f.c.notify()
	if f.res == nil {
		f.c.kickScope()
	}
}

// Delete forgets an object.
func (f *feed) Delete(obj any) error {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return fmt.Errorf("cluster %s: %s: key of deleted object: %w", f.c.name, f.kind.name, err)
	}
	c := f.c
	now := c.opts.Now()
	c.mu.Lock()
	f.deleteLocked(key)
	c.lastEvent, c.lastContact = now, now
	c.mu.Unlock()
	f.itemsChanged()
	return nil
}

func (f *feed) deleteLocked(key string) {
	old, ok := f.items[key]
	if !ok {
		return
	}
	delete(f.items, key)
	if e, isEvent := old.(*corev1.Event); isEvent {
		obj := involvedKey(e)
		delete(f.byObject[obj], key)
		if len(f.byObject[obj]) == 0 {
			delete(f.byObject, obj)
		}
	}
}

// Replace swaps in the result of a (re)list; the first one marks the feed synced.
func (f *feed) Replace(list []any, _ string) error {
	c := f.c
	now := c.opts.Now()
	items := make(map[string]runtime.Object, len(list))
	for _, obj := range list {
		if key, t := f.trim(obj, now); t != nil {
			items[key] = t
		}
	}
	c.mu.Lock()
	f.items = items
	f.byObject = nil
	for key, obj := range items {
		if e, ok := obj.(*corev1.Event); ok {
			f.indexEventLocked(key, e)
		}
	}
	f.synced = true
	f.forbidden, f.missing, f.err, f.retryAt = false, false, "", time.Time{}
	c.lastEvent = now
	c.reachableLocked(now)
	c.mu.Unlock()
	c.refresh()
	c.kickScope()
	return nil
}

// Resync is part of the reflector's store interface; a plain cache has nothing to resync.
func (f *feed) Resync() error { return nil }

// Bookmark records that the watch is alive although nothing changed.
func (f *feed) Bookmark(string) error {
	f.c.contact()
	return nil
}

func involvedKey(e *corev1.Event) string {
	o := e.InvolvedObject
	return o.Namespace + "/" + o.Kind + "/" + o.Name
}

// indexEventLocked records an event under its involved object and evicts the oldest events of
// that object beyond Options.EventsPerObject.
func (f *feed) indexEventLocked(key string, e *corev1.Event) {
	if f.byObject == nil {
		f.byObject = map[string]map[string]struct{}{}
	}
	obj := involvedKey(e)
	set := f.byObject[obj]
	if set == nil {
		set = map[string]struct{}{}
		f.byObject[obj] = set
	}
	set[key] = struct{}{}
	limit := f.c.opts.EventsPerObject
	if len(set) <= limit {
		return
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ti := EventTime(f.items[keys[i]].(*corev1.Event))
		tj := EventTime(f.items[keys[j]].(*corev1.Event))
		if !ti.Equal(&tj) {
			return tj.Before(&ti) // newest first
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys[limit:] {
		delete(set, k)
		delete(f.items, k)
	}
}

// feedLW lists and watches one feed, and reports what every call says about the cluster:
// client-go's reflector retries on its own and would otherwise keep a 403 or a refused
// connection to itself.
type feedLW struct{ f *feed }

func (l *feedLW) List(o metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(context.Background(), o)
}

func (l *feedLW) Watch(o metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(context.Background(), o)
}

func (l *feedLW) ListWithContext(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
	if err := l.gate(ctx); err != nil {
		return nil, err
	}
	obj, err := l.f.kind.list(ctx, l.f.ns, o)
	l.report(ctx, err)
	return obj, err
}

func (l *feedLW) WatchWithContext(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	if err := l.gate(ctx); err != nil {
		return nil, err
	}
	w, err := l.f.kind.watch(ctx, l.f.ns, o)
	l.report(ctx, err)
	return w, err
}

// IsWatchListSemanticsUnSupported tells the reflector whether the underlying client can
// stream the first state as a watch (fake clients cannot).
func (l *feedLW) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(l.f.kind.client)
}

func (l *feedLW) report(ctx context.Context, err error) {
	if err == nil {
		l.f.c.mu.Lock()
		// Listing or watching works again (RBAC granted, CRD installed): clear the marks.
		changed := l.f.forbidden || l.f.missing || l.f.err != ""
		if changed {
			l.f.forbidden, l.f.missing, l.f.err, l.f.retryAt = false, false, "", time.Time{}
		}
		l.f.c.mu.Unlock()
		l.f.c.contact()
		if changed {
			l.f.c.refresh()
			l.f.c.kickScope()
		}
		return
	}
	l.f.c.observe(ctx, l.f, err)
}

// gate holds a forbidden or missing resource back until its retry time.
func (l *feedLW) gate(ctx context.Context) error {
	c := l.f.c
	c.mu.Lock()
	until := l.f.retryAt
	c.mu.Unlock()
	d := until.Sub(c.opts.Now())
	if until.IsZero() || d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
