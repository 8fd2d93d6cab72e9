/* chan.c: channels (Go 1.14's chan.go), reduced to what the workloads need:
 * a buffered channel of pointers whose senders never block.  chansend hands
 * a value to a parked receiver (goready once c.lock is dropped) or buffers
 * it; chanrecv takes a buffered value or parks the G on the channel, c.lock
 * released by gopark's unlockf (Go's chanparkcommit).  Not modelled: unbuffered
 * channels, blocked senders, close, select, and element types other than a
 * pointer. */
#include "runtime.h"

#include <stdlib.h>

/* makechan: Go 1.14's makechan for a buffered channel of pointers (chan.go);
 * an allocation that fails throws, as Go's mallocgc does. */
chan *makechan(int cap)
{
    chan *c = calloc(1, sizeof *c);
    if (c == NULL)
        throw("makechan: out of memory");
    c->buf = calloc((size_t)cap, sizeof *c->buf);
    if (c->buf == NULL)
        throw("makechan: out of memory");
    c->cap = cap;
    mutexinit(&c->lock);
    return c;
}

void freechan(chan *c)
{
    pthread_mutex_destroy(&c->lock.mu);
    free(c->buf);
    free(c);
}

/* chansend: Go 1.14's chansend for a buffered channel that is never full: hand the
 * value to a parked receiver (goready after dropping the lock), else buffer it. */
void chansend(chan *c, void *v)
{
    lock(&c->lock);
    g *r = c->recvq;
    if (r != NULL) {
        c->recvq = r->schedlink;
        if (c->recvq == NULL)
            c->recvqtail = NULL;
        r->schedlink = NULL;
        r->elem = v;
        unlock(&c->lock);
        goready(r);
        return;
    }
    if (c->n == c->cap) {
        unlock(&c->lock);
        throw("chansend: buffer full (the model's senders never block)");
    }
    c->buf[(c->head + c->n) % c->cap] = v;
    c->n++;
    unlock(&c->lock);
}

static void chanparkcommit(void *arg)
{
    chan *c = arg;
    unlock(&c->lock);
}

bool chanrecv(chan *c, void **v)
{
    lock(&c->lock);
    if (c->n > 0) {
        *v = c->buf[c->head];
        c->head = (c->head + 1) % c->cap;
        c->n--;
        unlock(&c->lock);
        return true;
    }
    g *gp = atomic_load(&g_m->curg);
    gp->elem = NULL;
    gp->schedlink = NULL;
    if (c->recvqtail != NULL)
        c->recvqtail->schedlink = gp;
    else
        c->recvq = gp;
    c->recvqtail = gp;
    gopark(chanparkcommit, c, "chan receive");
}
