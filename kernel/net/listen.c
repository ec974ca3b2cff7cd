// SPDX-License-Identifier: GPL-2.0
/*
 * dsm: the listening socket. Its data-ready callback queues accept_work,
 * which accepts without blocking and hands each socket to the connection
 * layer (dsm_conn_accepted), which bounds how many may be pending.
 */
#include <linux/net.h>
#include <net/sock.h>

#include "transport.h"

static DEFINE_MUTEX(dsm_listen_lock);
static struct socket *dsm_listen_sock;	/* under dsm_listen_lock */
static void (*dsm_listen_saved_ready)(struct sock *sk);
static struct work_struct dsm_accept_work;

static void dsm_listen_data_ready(struct sock *sk)
{
	read_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data)
		queue_work(dsm_wq, &dsm_accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void dsm_accept_fn(struct work_struct *work)
{
	struct socket *sock;

	mutex_lock(&dsm_listen_lock);
	while (dsm_listen_sock &&
	       !kernel_accept(dsm_listen_sock, &sock, O_NONBLOCK))
		dsm_conn_accepted(sock);
	mutex_unlock(&dsm_listen_lock);
}

static void dsm_listen_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = dsm_listen_saved_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	kernel_sock_shutdown(sock, SHUT_RDWR);
	sock_release(sock);
}

/**
 * dsm_listen_start() - (re)bind the listening socket
 * @addr: local IPv4 address, network byte order
 * @port: TCP port
 *
 * Return: 0, -EADDRNOTAVAIL if @addr is not local, -EADDRINUSE, or another
 * negative errno; the previous socket stays in place on failure.
 */
int dsm_listen_start(__be32 addr, u16 port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = addr,
		.sin_port = htons(port),
	};
	struct socket *sock, *old;
	struct sock *sk;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	mutex_lock(&dsm_listen_lock);
	old = dsm_listen_sock;
	if (old)	/* free the port if we are rebinding the same one */
		dsm_listen_release(old);
	dsm_listen_sock = NULL;
	err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (!err)
		err = kernel_listen(sock, 64);
	if (err) {
		mutex_unlock(&dsm_listen_lock);
		sock_release(sock);
		return err;
	}
	write_lock_bh(&sk->sk_callback_lock);
	dsm_listen_saved_ready = sk->sk_data_ready;
	sk->sk_user_data = sock;
	sk->sk_data_ready = dsm_listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	dsm_listen_sock = sock;
	mutex_unlock(&dsm_listen_lock);
	queue_work(dsm_wq, &dsm_accept_work);
	return 0;
}

/**
 * dsm_listen_stop() - close the listening socket
 */
void dsm_listen_stop(void)
{
	mutex_lock(&dsm_listen_lock);
	if (dsm_listen_sock)
		dsm_listen_release(dsm_listen_sock);
	dsm_listen_sock = NULL;
	mutex_unlock(&dsm_listen_lock);
	cancel_work_sync(&dsm_accept_work);
}

/**
 * dsm_listen_init() - prepare the accept work
 */
void dsm_listen_init(void)
{
	INIT_WORK(&dsm_accept_work, dsm_accept_fn);
}
