/* The thread cache's small chunks handed to glibc's fastbins in one call (see heap_slack.py, which has the same
 * steps through ctypes: ~200 calls, ~115 us a batch on an Intel Xeon (Ice Lake), against a few here). Nothing
 * glibc-specific is called: on another C library these are plain mallocs and frees, and heap_slack.py calls this
 * only where the C library is glibc. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

#define MOST_CACHED 64  /* chunks a size: glibc's thread cache keeps 7 by default, and at most 65535 */

/* unpark(sizes, count): for each size of the tuple ``sizes`` (malloc request sizes): ``count`` chunks taken (the
 * cache's come first), ``count`` more taken, the later ones freed (they fill the cache) and then the first ones
 * (the cache being full, they go to the fastbins). The calling thread's cache, with the GIL held. */
static PyObject *unpark(PyObject *self, PyObject *args)
{
    PyObject *sizes;
    int count;
    if (!PyArg_ParseTuple(args, "O!i", &PyTuple_Type, &sizes, &count))
        return NULL;
    if (count < 0 || count > MOST_CACHED) {
        PyErr_Format(PyExc_ValueError, "unpark: count must be within 0..%d, got %d", MOST_CACHED, count);
        return NULL;
    }
    void *cached[MOST_CACHED], *spare[MOST_CACHED];
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(sizes); k++) {
        const size_t size = PyLong_AsSize_t(PyTuple_GET_ITEM(sizes, k));
        if (size == (size_t)-1 && PyErr_Occurred())
            return NULL;
        for (int i = 0; i < count; i++)
            cached[i] = malloc(size);
        for (int i = 0; i < count; i++)
            spare[i] = malloc(size);
        for (int i = 0; i < count; i++)
            free(spare[i]);
        for (int i = 0; i < count; i++)
            free(cached[i]);
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"unpark", unpark, METH_VARARGS, "Move the thread cache's chunks of the given sizes to the fastbins (see heap_slack.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_heap_slack", "The heap slack's small chunks unparked.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__heap_slack(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", 1) < 0) {  /* heap_slack.VERSION: the signature */
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
