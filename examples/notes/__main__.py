import infra.program
infra.program.run()
