# Stand-in for the SDK's include/bpf.mk: the dependency it adds to BPF packages, as the real one does.
BPF_DEPENDS := @HAS_BPF_TOOLCHAIN +@NEED_BPF_TOOLCHAIN
