#ifndef SB_RUNC_RUNTIME_FEATURES_H
#define SB_RUNC_RUNTIME_FEATURES_H

/* The runtime-spec "features" document of this build.  */
char *cli_features_json (void);

#endif
