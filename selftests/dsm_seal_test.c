// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed links, from the outside: a client that holds the cluster key does
 * the keyed join handshake with this node's port, derives the session keys
 * as protocol.md says, and seals its messages itself (AES-256-GCM and
 * HMAC-SHA256 through the kernel's AF_ALG sockets, not through dsm):
 *  - two sealed JOINs get sealed answers that open with the acceptor's key,
 *    numbered 0 and 1 (the join is refused, EINVAL: it claims no address;
 *    nothing changes);
 *  - a sealed message with one header byte changed, a sealed message
 *    replayed within its connection or from an earlier one, and a clear
 *    message after the proofs do not open: the node closes the connection
 *    and counts each in seal_failed.
 * Runs on a member of a keyed cluster: dsm_seal_test KEYFILE (the key as
 * 64 hex digits, as dsmctl takes it).
 */
#include <linux/if_alg.h>
#include <sys/random.h>

#include "kselftest_harness.h"
#include "rogue.h"

#define CLUSTER_ID	1	/* the test cluster's */
#define SEAL_TAG	16

static uint8_t cluster_key[DSM_KEY_LEN];

/* An AF_ALG operation socket for @type/@name keyed with @key. */
static int alg_open(const char *type, const char *name, const uint8_t *key,
		    int tag)
{
	struct sockaddr_alg sa = { .salg_family = AF_ALG };
	int tfm = socket(AF_ALG, SOCK_SEQPACKET, 0), op = -1;

	strcpy((char *)sa.salg_type, type);
	strcpy((char *)sa.salg_name, name);
	if (tfm >= 0 && !bind(tfm, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !setsockopt(tfm, SOL_ALG, ALG_SET_KEY, key, DSM_KEY_LEN) &&
	    (!tag || !setsockopt(tfm, SOL_ALG, ALG_SET_AEAD_AUTHSIZE, NULL, tag)))
		op = accept(tfm, NULL, 0);
	if (tfm >= 0)
		close(tfm);
	return op;
}

static int hmac(const uint8_t *key, const void *msg, size_t len, uint8_t *out)
{
	int op = alg_open("hash", "hmac(sha256)", key, 0);
	int ok = op >= 0 && write(op, msg, len) == (ssize_t)len &&
		 read(op, out, 32) == 32;

	if (op >= 0)
		close(op);
	return ok ? 0 : -1;
}

/*
 * Seal (@seal) or open message number @count: @in is header | payload
 * (| tag), @out gets header | payload | tag (| nothing). Return: the
 * output's length, or -1 (a message that does not open).
 */
static ssize_t gcm(const uint8_t *key, uint64_t count, bool seal,
		   const void *in, size_t inlen, void *out)
{
	union {
		char buf[CMSG_SPACE(4) + CMSG_SPACE(sizeof(struct af_alg_iv) + 12) +
			 CMSG_SPACE(4)];
		struct cmsghdr align;
	} c = {};
	struct iovec iov = { .iov_base = (void *)in, .iov_len = inlen };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	size_t outlen = seal ? inlen + SEAL_TAG : inlen - SEAL_TAG;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	struct af_alg_iv *iv;
	uint64_t le = htole64(count);
	int op = alg_open("aead", "gcm(aes)", key, SEAL_TAG);
	ssize_t n = -1;

	if (op < 0)
		return -1;
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type = ALG_SET_OP;
	cm->cmsg_len = CMSG_LEN(4);
	*(uint32_t *)CMSG_DATA(cm) = seal ? ALG_OP_ENCRYPT : ALG_OP_DECRYPT;
	cm = CMSG_NXTHDR(&msg, cm);
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type = ALG_SET_IV;
	cm->cmsg_len = CMSG_LEN(sizeof(*iv) + 12);
	iv = (struct af_alg_iv *)CMSG_DATA(cm);
	iv->ivlen = 12;
	memset(iv->iv, 0, 12);
	memcpy(iv->iv, &le, sizeof(le));
	cm = CMSG_NXTHDR(&msg, cm);
	cm->cmsg_level = SOL_ALG;
	cm->cmsg_type = ALG_SET_AEAD_ASSOCLEN;
	cm->cmsg_len = CMSG_LEN(4);
	*(uint32_t *)CMSG_DATA(cm) = sizeof(struct dsm_wire_hdr);
	if (sendmsg(op, &msg, 0) == (ssize_t)inlen)
		n = read(op, out, outlen);
	close(op);
	return n == (ssize_t)outlen ? n : -1;
}

/* A keyed join connection, its proofs checked, and its session keys. */
struct sealed {
	int fd;
	struct dsm_wire_hello hello_i, hello_a;	/* as sent, as received */
	uint64_t epoch_a;			/* in the node's HELLO header */
	uint8_t k_tx[DSM_KEY_LEN], k_rx[DSM_KEY_LEN];
	uint64_t tx, rx;	/* the next message numbers */
};

/*
 * HMAC(key, "dsm1" | role | cluster | initiator | acceptor | HELLO_i |
 * epoch_i | HELLO_a | epoch_a | (proofs) AUTH's epoch | (keys) 1); this
 * client's headers carry epoch 0.
 */
static int prf(const struct sealed *s, char role, uint64_t auth_epoch,
	       uint8_t *out)
{
	bool proof = role == 'I' || role == 'A';
	struct {
		char tag[4];
		uint8_t role;
		uint64_t cluster;
		uint32_t initiator, acceptor;
		struct dsm_wire_hello hello_i;
		uint64_t epoch_i;
		struct dsm_wire_hello hello_a;
		uint64_t epoch_a;
		uint64_t last;
	} __packed m = {
		.tag = "dsm1", .role = role, .cluster = htole64(CLUSTER_ID),
		.initiator = htole32(ROGUE_ID), .acceptor = htole32(self_id()),
		.hello_i = s->hello_i, .hello_a = s->hello_a,
		.epoch_a = htole64(s->epoch_a),
		.last = htole64(proof ? auth_epoch : 1),	/* keys: its first byte */
	};

	return hmac(cluster_key, &m, sizeof(m) - (proof ? 0 : 7), out);
}

static int sealed_open(struct sealed *s)
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_HELLO, sizeof(struct dsm_wire_hello),
				       ROGUE_ID);
	struct dsm_wire_hello hello = hello_of(CLUSTER_ID,
					       DSM_HELLO_JOIN | DSM_HELLO_KEYED);
	struct {
		struct dsm_wire_hdr h;
		struct dsm_wire_hello hello;
	} __packed back;
	struct {
		struct dsm_wire_hdr h;
		struct dsm_wire_auth a;
	} __packed proof;
	uint8_t want[DSM_MAC_LEN];

	s->tx = s->rx = 0;
	s->fd = rogue_connect();
	if (s->fd < 0 ||
	    getrandom(hello.nonce, sizeof(hello.nonce), 0) != sizeof(hello.nonce))
		return -1;
	hello.addr = 0;		/* so the JOIN is refused: EINVAL */
	h.dst = 0;
	s->hello_i = hello;
	if (send_msg(s->fd, h, &hello, sizeof(hello)) ||
	    read_full(s->fd, &back, sizeof(back), 10) ||
	    back.h.type != DSM_MSG_HELLO)
		return -1;
	s->hello_a = back.hello;
	s->epoch_a = le64toh(back.h.epoch);
	h = hdr_of(DSM_MSG_AUTH, sizeof(proof.a), ROGUE_ID);
	if (prf(s, 'I', 0, proof.a.mac) ||
	    send_msg(s->fd, h, &proof.a, sizeof(proof.a)) ||
	    read_full(s->fd, &proof, sizeof(proof), 10) ||
	    proof.h.type != DSM_MSG_AUTH ||
	    prf(s, 'A', le64toh(proof.h.epoch), want) ||
	    memcmp(want, proof.a.mac, sizeof(want)))
		return -1;
	return prf(s, 'i', 0, s->k_tx) || prf(s, 'a', 0, s->k_rx) ? -1 : 0;
}

/* A sealed JOIN (no payload) in @out: header and tag. */
static int sealed_join(struct sealed *s, uint8_t out[sizeof(struct dsm_wire_hdr) + SEAL_TAG])
{
	struct dsm_wire_hdr h = hdr_of(DSM_MSG_JOIN, 0, ROGUE_ID);

	h.req_id = htole64(1);
	return gcm(s->k_tx, s->tx++, true, &h, sizeof(h), out) < 0 ? -1 : 0;
}

/* Send @len bytes; the node must close and count one message that did not open. */
static int closed_and_counted(struct sealed *s, const void *data, size_t len)
{
	uint64_t before = node_stat(DSM_STAT_SEAL_FAILED);
	int closed = !send_all(s->fd, data, len) && closed_within(s->fd, 10, NULL);

	close(s->fd);
	return closed && node_stat(DSM_STAT_SEAL_FAILED) == before + 1;
}

/*
 * Read the node's next message and open it as its next one; return the
 * status of the REPLY it must be, or 1 if it is not one or does not open.
 */
static int sealed_reply(struct sealed *s)
{
	struct {
		struct dsm_wire_hdr h;
		uint8_t rest[DSM_WIRE_MAX_PAYLOAD + SEAL_TAG];
	} __packed in, out;
	struct dsm_wire_reply *r = (void *)out.rest;
	size_t len;

	if (read_full(s->fd, &in.h, sizeof(in.h), 10) || in.h.type != DSM_MSG_REPLY)
		return 1;
	len = le32toh(in.h.len);
	if (len < sizeof(*r) || len > DSM_WIRE_MAX_PAYLOAD ||
	    read_full(s->fd, in.rest, len + SEAL_TAG, 10) ||
	    gcm(s->k_rx, s->rx++, false, &in, sizeof(in.h) + len + SEAL_TAG, &out) !=
	    (ssize_t)(sizeof(in.h) + len))
		return 1;
	return (int32_t)le32toh(r->status);
}

/*
 * Seal the next JOIN into @join, send it, and return its sealed answer's
 * status (sealed_reply), or 1 if it could not be sent.
 */
static int sealed_join_answered(struct sealed *s,
				uint8_t join[sizeof(struct dsm_wire_hdr) + SEAL_TAG])
{
	if (sealed_join(s, join) ||
	    send_all(s->fd, join, sizeof(struct dsm_wire_hdr) + SEAL_TAG))
		return 1;
	return sealed_reply(s);
}

TEST(sealed_joins_are_answered_sealed)
{
	uint8_t join[sizeof(struct dsm_wire_hdr) + SEAL_TAG];
	struct sealed s;

	ASSERT_EQ(0, sealed_open(&s));
	/* two, so that each side's second message is numbered 1 */
	EXPECT_EQ(-EINVAL, sealed_join_answered(&s, join));
	EXPECT_EQ(-EINVAL, sealed_join_answered(&s, join));
	close(s.fd);
}

TEST(replay_within_a_connection_does_not_open)
{
	uint8_t join[sizeof(struct dsm_wire_hdr) + SEAL_TAG];
	struct sealed s;

	ASSERT_EQ(0, sealed_open(&s));
	ASSERT_EQ(-EINVAL, sealed_join_answered(&s, join));
	EXPECT_TRUE(closed_and_counted(&s, join, sizeof(join)));
}

TEST(changed_header_does_not_open)
{
	uint8_t join[sizeof(struct dsm_wire_hdr) + SEAL_TAG];
	struct sealed s;

	ASSERT_EQ(0, sealed_open(&s));
	ASSERT_EQ(0, sealed_join(&s, join));
	join[offsetof(struct dsm_wire_hdr, req_id)] ^= 1;	/* still a valid header */
	EXPECT_TRUE(closed_and_counted(&s, join, sizeof(join)));
}

TEST(replay_from_another_connection_does_not_open)
{
	uint8_t join[sizeof(struct dsm_wire_hdr) + SEAL_TAG];
	struct sealed s;

	ASSERT_EQ(0, sealed_open(&s));
	ASSERT_EQ(0, sealed_join(&s, join));
	close(s.fd);
	ASSERT_EQ(0, sealed_open(&s));	/* new nonces, new keys */
	EXPECT_TRUE(closed_and_counted(&s, join, sizeof(join)));
}

TEST(clear_message_after_the_proofs_does_not_open)
{
	struct {
		struct dsm_wire_hdr h;
		uint8_t tag[SEAL_TAG];	/* where a tag would be */
	} __packed clear = { .h = hdr_of(DSM_MSG_JOIN, 0, ROGUE_ID) };
	struct sealed s;

	ASSERT_EQ(0, sealed_open(&s));
	EXPECT_TRUE(closed_and_counted(&s, &clear, sizeof(clear)));
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(int argc, char **argv)
{
	char text[2 * DSM_KEY_LEN + 2] = "";
	FILE *f = argc == 2 ? fopen(argv[1], "r") : NULL;
	int i;

	if (!f || !fgets(text, sizeof(text), f)) {
		fprintf(stderr, "usage: dsm_seal_test KEYFILE (64 hex digits)\n");
		return 2;
	}
	fclose(f);
	for (i = 0; i < DSM_KEY_LEN; i++) {
		int hi = hex(text[2 * i]), lo = hex(text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			fprintf(stderr, "dsm_seal_test: %s: not 64 hex digits\n", argv[1]);
			return 2;
		}
		cluster_key[i] = hi << 4 | lo;
	}
	return test_harness_run(1, argv);
}
