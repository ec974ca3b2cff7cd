/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dsm: tracepoints of the coherence protocol (integer fields only).
 *
 *   dsm_fault       a fault on a cluster region and how it went
 *   dsm_request     a page's home takes a request (or passes it on)
 *   dsm_invalidate  a node drops its copy at its home's request
 *   dsm_grant       a request of this node completes: data or ownership in
 *
 * Enable with: echo 1 > /sys/kernel/tracing/events/dsm/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM dsm

#if !defined(_DSM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _DSM_TRACE_H

#include <linux/tracepoint.h>

/* dsm_fault outcomes */
#define DSM_TRACE_LOCAL		0	/* held well enough: mapped */
#define DSM_TRACE_REQUEST	1	/* sent a request */
#define DSM_TRACE_JOINED	2	/* joined the request in flight */
#define DSM_TRACE_SIGBUS	3	/* the page cannot be had */
#define DSM_TRACE_REFAULT	4	/* page_mkwrite: fault again */

TRACE_EVENT(dsm_fault,
	TP_PROTO(u64 key, u64 index, bool write, int outcome),
	TP_ARGS(key, index, write, outcome),
	TP_STRUCT__entry(
		__field(u64, key)
		__field(u64, index)
		__field(u8, write)
		__field(int, outcome)
	),
	TP_fast_assign(
		__entry->key = key;
		__entry->index = index;
		__entry->write = write;
		__entry->outcome = outcome;
	),
	TP_printk("key=%#llx index=%llu write=%u outcome=%d",
		  __entry->key, __entry->index, __entry->write, __entry->outcome)
);

TRACE_EVENT(dsm_request,
	TP_PROTO(u64 key, u64 index, u32 type, u32 requester, u32 owner),
	TP_ARGS(key, index, type, requester, owner),
	TP_STRUCT__entry(
		__field(u64, key)
		__field(u64, index)
		__field(u32, type)
		__field(u32, requester)
		__field(u32, owner)
	),
	TP_fast_assign(
		__entry->key = key;
		__entry->index = index;
		__entry->type = type;
		__entry->requester = requester;
		__entry->owner = owner;
	),
	TP_printk("key=%#llx index=%llu type=%u requester=%u owner=%u",
		  __entry->key, __entry->index, __entry->type,
		  __entry->requester, __entry->owner)
);

TRACE_EVENT(dsm_invalidate,
	TP_PROTO(u64 key, u64 index, u32 home, u32 requester),
	TP_ARGS(key, index, home, requester),
	TP_STRUCT__entry(
		__field(u64, key)
		__field(u64, index)
		__field(u32, home)
		__field(u32, requester)
	),
	TP_fast_assign(
		__entry->key = key;
		__entry->index = index;
		__entry->home = home;
		__entry->requester = requester;
	),
	TP_printk("key=%#llx index=%llu home=%u requester=%u",
		  __entry->key, __entry->index, __entry->home, __entry->requester)
);

TRACE_EVENT(dsm_grant,
	TP_PROTO(u64 key, u64 index, u32 from, bool write, bool data, u32 wait_us),
	TP_ARGS(key, index, from, write, data, wait_us),
	TP_STRUCT__entry(
		__field(u64, key)
		__field(u64, index)
		__field(u32, from)
		__field(u8, write)
		__field(u8, data)
		__field(u32, wait_us)
	),
	TP_fast_assign(
		__entry->key = key;
		__entry->index = index;
		__entry->from = from;
		__entry->write = write;
		__entry->data = data;
		__entry->wait_us = wait_us;
	),
	TP_printk("key=%#llx index=%llu from=%u write=%u data=%u wait_us=%u",
		  __entry->key, __entry->index, __entry->from, __entry->write,
		  __entry->data, __entry->wait_us)
);

#endif /* _DSM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
