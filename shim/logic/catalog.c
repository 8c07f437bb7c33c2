/* catalog.c - names and classes of the events and reasons (catalog.h). */
#include "logic/catalog.h"

#include <string.h>

static const char *const counter_names[KW_COUNTER_COUNT] = {
#define KW_COUNTER_NAME(id, name) [KW_COUNTER_##id] = name,
	KW_COUNTERS(KW_COUNTER_NAME)
#undef KW_COUNTER_NAME
};

static const struct {
	const char *name;
	enum kw_counter counter;
} events[KW_EVENT_COUNT] = {
#define KW_EVENT_ROW(id, name, counter) [KW_EVENT_##id] = { name, KW_COUNTER_##counter },
	KW_EVENTS(KW_EVENT_ROW)
#undef KW_EVENT_ROW
};

static const struct {
	const char *name;
	enum kw_event event;
	enum kw_counter counter;
} reasons[KW_REASON_COUNT] = {
	[KW_REASON_NONE] = { "", KW_EVENT_DISCARD, KW_COUNTER_NONE },
#define KW_REASON_ROW(id, name, event, counter) \
	[KW_REASON_##id] = { name, KW_EVENT_##event, KW_COUNTER_##counter },
	KW_REASONS(KW_REASON_ROW)
#undef KW_REASON_ROW
};

const char *kw_event_name(enum kw_event e)
{
	return (unsigned)e < KW_EVENT_COUNT ? events[e].name : "?";
}

enum kw_counter kw_event_counter(enum kw_event e)
{
	return (unsigned)e < KW_EVENT_COUNT ? events[e].counter : KW_COUNTER_NONE;
}

const char *kw_counter_name(enum kw_counter c)
{
	return (unsigned)c < KW_COUNTER_COUNT ? counter_names[c] : "?";
}

const char *kw_reason_name(enum kw_reason r)
{
	return (unsigned)r < KW_REASON_COUNT ? reasons[r].name : "?";
}

enum kw_event kw_reason_event(enum kw_reason r)
{
	return (unsigned)r < KW_REASON_COUNT ? reasons[r].event : KW_EVENT_DISCARD;
}

enum kw_counter kw_reason_counter(enum kw_reason r)
{
	return (unsigned)r < KW_REASON_COUNT ? reasons[r].counter : KW_COUNTER_NONE;
}

int kw_event_from_name(const char *name)
{
	for (int e = 0; e < KW_EVENT_COUNT; e++)
		if (!strcmp(events[e].name, name))
			return e;
	return -1;
}

int kw_reason_from_name(const char *name)
{
	for (int r = 1; r < KW_REASON_COUNT; r++)
		if (!strcmp(reasons[r].name, name))
			return r;
	return -1;
}
