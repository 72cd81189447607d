package codec

import (
	"fmt"
	"sort"
	"sync"
)

// Factory builds a codec for an engine.
type Factory func(env Env) (Codec, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a codec available under a URL scheme name ("http"). It is
// meant to be called from the init function of the codec's package; it
// panics if f is nil or the name is empty or already taken.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if f == nil {
		panic("codec: Register factory is nil for " + name)
	}
	if name == "" {
		panic("codec: Register with an empty name")
	}
	if _, dup := factories[name]; dup {
		panic("codec: Register called twice for " + name)
	}
	factories[name] = f
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, error) {
	mu.RLock()
	f, ok := factories[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("codec: unknown codec %q (forgotten import?)", name)
	}
	return f, nil
}

// Names returns the registered names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
