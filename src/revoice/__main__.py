from revoice.cli import main

raise SystemExit(main())
