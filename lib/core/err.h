/*
 * err.h - podiam's internal result codes.
 *
 * Every function that can fail returns int: PD_OK (0) or a negative enum pd_err.
 * The AWS wire error (code, message, HTTP status) is a separate thing set once where the
 * cause is known (see services/service.h, pd_fail); these codes only say what kind of
 * failure travelled up the stack. Depends on nothing.
 */
#ifndef PD_CORE_ERR_H
#define PD_CORE_ERR_H

enum pd_err {
    PD_OK = 0,
    PD_EINVAL = -1,    /* client input is malformed or out of range */
    PD_ENOTFOUND = -2, /* the named thing does not exist */
    PD_ECONFLICT = -3, /* already exists, or in use */
    PD_EDENIED = -4,   /* authorization refused */
    PD_ESIG = -5,      /* authentication failed (signature, token, key) */
    PD_ETOOBIG = -6,   /* a size bound was exceeded */
    PD_ENOTIMPL = -7,  /* valid request we do not implement */
    PD_EINTERNAL = -8, /* our bug or an I/O failure */
    PD_EAWS = -9,      /* a wire error was already set on the request (pd_fail) */
    PD_EIO = -10,      /* file system or database I/O error */
    PD_EBUSY = -11,    /* database locked past the busy timeout */
};

/* Short name of a code ("EINVAL"), never NULL. */
const char *pd_strerror(int rc);

#endif
