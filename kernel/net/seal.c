// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: sealed links - every message after a keyed handshake is encrypted
 * and authenticated.
 *
 * Theory of operation. Both sides of a keyed handshake hold the cluster key
 * and both fresh nonces, and derive one session key per direction from them
 * (handshake.c, dsm_hs_seals). From the first message after the
 * proofs on, each message goes sealed with AES-256-GCM under the key of its
 * direction:
 *
 *   header (56 bytes, clear, authenticated) | payload (encrypted) | tag (16)
 *
 * The header stays readable because the receiver needs its length before
 * the payload; the tag covers it. The nonce is the message's number on
 * this connection in its direction (le64, then four zero bytes), counted
 * by both sides and never sent: a message that is changed, dropped,
 * replayed, reordered or taken from another connection (other nonces,
 * other keys) does not open. The receiver then closes the connection and
 * counts it (seal_failed); the reliable transport resends what was lost on
 * the next link, under that link's keys.
 *
 * A seal is owned by one side of one connection: the sending one is used
 * under the connection's tx_lock, the receiving one by its receive work;
 * both may sleep, so an asynchronous implementation is waited for.
 * The plaintext is copied into the seal's own buffers (a payload may be on
 * the caller's stack, and a queued message must stay clear for a resend).
 */
#include <crypto/aead.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "transport.h"

#define DSM_SEAL_ALG	"gcm(aes)"
#define DSM_SEAL_IV	12

struct dsm_seal {
	struct crypto_aead *tfm;
	struct aead_request *req;
	u64 count;			/* the next message's number */
	struct dsm_wire_hdr hdr;	/* sending: the header being sealed */
	u8 tag[DSM_SEAL_TAG];		/* sending: its tag */
	u8 *buf;			/* sending: its payload */
};

static struct crypto_aead *dsm_seal_tfm(const u8 *key)
{
	/*
	 * Any implementation, asynchronous ones too (the SIMD ones are, where
	 * the CPU has AES and carry-less multiply instructions): sealing runs
	 * in process context and waits for the result.
	 */
	struct crypto_aead *tfm = crypto_alloc_aead(DSM_SEAL_ALG, 0, 0);
	int err;

	if (IS_ERR(tfm))
		return tfm;
	err = crypto_aead_setkey(tfm, key, DSM_KEY_LEN) ?:
	      crypto_aead_setauthsize(tfm, DSM_SEAL_TAG);
	if (err) {
		crypto_free_aead(tfm);
		return ERR_PTR(err);
	}
	return tfm;
}

/**
 * dsm_seal_available() - can links be sealed on this node?
 *
 * Return: 0, or a negative errno if gcm(aes) cannot be had.
 */
int dsm_seal_available(void)
{
	static const u8 zero[DSM_KEY_LEN];
	struct crypto_aead *tfm = dsm_seal_tfm(zero);

	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	crypto_free_aead(tfm);
	return 0;
}

/**
 * dsm_seal_new() - a seal for one direction of a connection
 * @key:     the direction's session key, DSM_KEY_LEN bytes
 * @sending: for the sending side (it has buffers for a message)
 *
 * Return: the seal, or an ERR_PTR.
 */
struct dsm_seal *dsm_seal_new(const u8 *key, bool sending)
{
	struct dsm_seal *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int err = -ENOMEM;

	if (!s)
		return ERR_PTR(-ENOMEM);
	if (sending) {
		s->buf = kmalloc(DSM_WIRE_MAX_PAYLOAD, GFP_KERNEL);
		if (!s->buf)
			goto fail;
	}
	s->tfm = dsm_seal_tfm(key);
	if (IS_ERR(s->tfm)) {
		err = PTR_ERR(s->tfm);
		s->tfm = NULL;
		goto fail;
	}
	s->req = aead_request_alloc(s->tfm, GFP_KERNEL);
	if (!s->req)
		goto fail;
	return s;
fail:
	dsm_seal_free(s);
	return ERR_PTR(err);
}

/**
 * dsm_seal_free() - forget a seal (NULL is fine)
 * @s: the seal
 */
void dsm_seal_free(struct dsm_seal *s)
{
	if (!s)
		return;
	aead_request_free(s->req);
	if (s->tfm)
		crypto_free_aead(s->tfm);
	kfree_sensitive(s->buf);
	kfree_sensitive(s);
}

/* Seal or open the next message in place: header, @len payload bytes, tag. */
static int dsm_seal_run(struct dsm_seal *s, struct dsm_wire_hdr *hdr,
			void *payload, size_t len, u8 *tag, bool seal)
{
	struct scatterlist sg[3];
	__le64 count = cpu_to_le64(s->count++);
	u8 iv[DSM_SEAL_IV] = {};
	DECLARE_CRYPTO_WAIT(wait);
	int n = 0;

	sg_init_table(sg, ARRAY_SIZE(sg));
	sg_set_buf(&sg[n++], hdr, sizeof(*hdr));
	if (len)
		sg_set_buf(&sg[n++], payload, len);
	sg_set_buf(&sg[n++], tag, DSM_SEAL_TAG);
	sg_mark_end(&sg[n - 1]);
	memcpy(iv, &count, sizeof(count));
	aead_request_set_callback(s->req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP, crypto_req_done, &wait);
	aead_request_set_ad(s->req, sizeof(*hdr));
	aead_request_set_crypt(s->req, sg, sg, seal ? len : len + DSM_SEAL_TAG, iv);
	return crypto_wait_req(seal ? crypto_aead_encrypt(s->req) :
				      crypto_aead_decrypt(s->req), &wait);
}

/**
 * dsm_seal_message() - seal the next message to send
 * @s:       the sending seal (under the connection's tx_lock)
 * @hdr:     its header
 * @payload: @len bytes (at most DSM_WIRE_MAX_PAYLOAD), not changed
 * @len:     payload length
 * @iov:     set to the three parts to send: header, payload, tag
 *
 * Return: 0 or a negative errno.
 */
int dsm_seal_message(struct dsm_seal *s, const struct dsm_wire_hdr *hdr,
		     const void *payload, size_t len, struct kvec iov[3])
{
	if (WARN_ON_ONCE(len > DSM_WIRE_MAX_PAYLOAD))
		return -EMSGSIZE;
	s->hdr = *hdr;
	if (len)
		memcpy(s->buf, payload, len);
	iov[0] = (struct kvec){ .iov_base = &s->hdr, .iov_len = sizeof(*hdr) };
	iov[1] = (struct kvec){ .iov_base = s->buf, .iov_len = len };
	iov[2] = (struct kvec){ .iov_base = s->tag, .iov_len = DSM_SEAL_TAG };
	return dsm_seal_run(s, &s->hdr, s->buf, len, s->tag, true);
}

/**
 * dsm_seal_open() - open the next message received, in place
 * @s:       the receiving seal (in the connection's receive work)
 * @hdr:     its header, as received
 * @payload: its @len encrypted payload bytes, decrypted on success
 * @len:     payload length (the header's)
 * @tag:     the DSM_SEAL_TAG bytes that followed the payload
 *
 * Return: 0, or -EBADMSG if the message is not what the other side sealed
 * as its next message.
 */
int dsm_seal_open(struct dsm_seal *s, struct dsm_wire_hdr *hdr, void *payload,
		  size_t len, u8 *tag)
{
	return dsm_seal_run(s, hdr, payload, len, tag, false);
}
