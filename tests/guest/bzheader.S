/* A Linux boot-protocol setup header, so a tiny guest can also be booted as
 * a bzImage (64-bit entry at load address + 0x200). */
	.section .bzsetup, "a"
	.org 0x1f1
	.byte 1                          /* setup_sects */
	.word 0                          /* root_flags */
	.long _bz_syssize                /* syssize, 16-byte units */
	.word 0, 0xffff, 0               /* ram_size, vid_mode, root_dev */
	.word 0xaa55                     /* boot_flag */
	.byte 0xeb, 0x26c - 0x202        /* jump over the header: its length */
	.ascii "HdrS"
	.word 0x020f                     /* boot protocol 2.15 */
	.long 0                          /* realmode_swtch */
	.word 0, 0                       /* start_sys_seg, kernel_version */
	.byte 0, 1                       /* type_of_loader, loadflags: LOADED_HIGH */
	.word 0                          /* setup_move_size */
	.long 0x1000000                  /* code32_start */
	.long 0, 0, 0                    /* ramdisk_image, ramdisk_size, bootsect_kludge */
	.word 0                          /* heap_end_ptr */
	.byte 0, 0                       /* ext_loader_ver, ext_loader_type */
	.long 0                          /* cmd_line_ptr */
	.long 0x7fffffff                 /* initrd_addr_max */
	.long 0x200000                   /* kernel_alignment */
	.byte 0, 0                       /* relocatable_kernel, min_alignment */
	.word 1                          /* xloadflags: XLF_KERNEL_64 */
	.long 2047                       /* cmdline_size */
	.long 0                          /* hardware_subarch */
	.quad 0                          /* hardware_subarch_data */
	.long 0, 0                       /* payload_offset, payload_length */
	.quad 0                          /* setup_data */
	.quad 0x1000000                  /* pref_address */
	.long _bz_init_size              /* init_size */
	.long 0, 0                       /* handover_offset, kernel_info_offset */
	.org 0x400
