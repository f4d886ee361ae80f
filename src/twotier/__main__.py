from twotier.cli.main import run

run()
