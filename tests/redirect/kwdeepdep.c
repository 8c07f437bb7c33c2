/* kwdeepdep.c - libkwdeepdep.so, the dependency of libkwdeep.so: it defines
 * kwtest_which(), which the main program (deepbind_client) defines too. A
 * library loaded with RTLD_DEEPBIND binds it here, in its own scope: only
 * the names keepwarm wraps may change under keepwarm. */
__attribute__((visibility("default"))) const char *kwtest_which(void)
{
	return "dep";
}
