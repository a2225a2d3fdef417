# Shortcuts for machines that have make; each calls the README's commands.
.PHONY: demo test install bench
demo:
	bash conf/bootstrap.sh demo
test:
	bash conf/bootstrap.sh test
install:
	bash conf/bootstrap.sh install
bench:
	bash conf/bootstrap.sh install && .venv/bin/python -m bench
